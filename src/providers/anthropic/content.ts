import { ValidationError } from "../../errors.js";
import { type ImagePart, partsOf, textOf } from "../../requests/parts.js";
import type { BatchRequest, ChatMessage } from "../../types.js";
import { chatMessages } from "../shared/messages.js";

/** The image types the Messages API takes (Base64ImageSource.media_type in @anthropic-ai/sdk 1.x). */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/s;

type Block = Record<string, unknown>;
type AnthropicMessage = { role: "user" | "assistant"; content: string | Block[] };

/** An image part as an image block: base64 data (also from a data: URL) or an https URL source. */
function imageBlock(part: ImagePart, label: string): Block {
  let mediaType: string;
  let data: string;
  if ("url" in part) {
    const inline = DATA_URL.exec(part.url);
    if (!inline) return { type: "image", source: { type: "url", url: part.url } };
    [, mediaType = "", data = ""] = inline;
  } else {
    mediaType = part.mediaType;
    data = part.data;
  }
  if (!IMAGE_TYPES.has(mediaType)) {
    throw new ValidationError(
      `${label}: Anthropic takes images as JPEG, PNG, GIF or WebP, not ${mediaType}.`,
      "unsupported_feature",
    );
  }
  return { type: "image", source: { type: "base64", media_type: mediaType, data } };
}

/**
 * A message's content: a string stays a string, parts become text and image blocks. Empty text parts are left out,
 * as Anthropic refuses empty text blocks.
 */
function contentOf(content: ChatMessage["content"], label: string): string | Block[] {
  if (typeof content === "string") return content;
  const blocks = partsOf(content)
    .filter((part) => part.type !== "text" || part.text !== "")
    .map((part) => (part.type === "text" ? { type: "text", text: part.text } : imageBlock(part, label)));
  return blocks.length > 0 ? blocks : "";
}

export interface AnthropicConversation {
  /** The top-level `system` parameter: a string, or one text block marked for the prompt cache. */
  system: string | Block[] | undefined;
  messages: AnthropicMessage[];
}

/**
 * Anthropic has no system role inside `messages`: the system prompt and any system turns of a multi-turn request
 * become the top-level `system` parameter, in the order given. With `cacheSystemPrompt`, the system prompt is sent
 * as a text block carrying `cache_control: {type: "ephemeral"}`, which caches the prompt up to it (tools, then
 * system); Anthropic caches nothing shorter than the model's minimum (1024 tokens for most models).
 */
export function anthropicConversation(request: BatchRequest): AnthropicConversation {
  const label = `request "${request.id}"`;
  const systemParts = request.systemPrompt ? [request.systemPrompt] : [];
  const messages: AnthropicMessage[] = [];
  for (const message of chatMessages(request, { includeSystem: false })) {
    if (message.role === "system") systemParts.push(textOf(message.content));
    else messages.push({ role: message.role, content: contentOf(message.content, label) });
  }
  const text = systemParts.length > 0 ? systemParts.join("\n\n") : undefined;
  const system =
    text !== undefined && request.cacheSystemPrompt
      ? [{ type: "text", text, cache_control: { type: "ephemeral" } }]
      : text;
  return { system, messages };
}
