import { ValidationError } from "../../errors.js";
import { type ImagePart, partsOf, textOf } from "../../requests/parts.js";
import type { BatchRequest, ChatMessage } from "../../types.js";
import { chatMessages } from "../shared/messages.js";

/** The image types Gemini reads ("PNG, JPEG, WEBP, HEIC, HEIF" in its image-understanding guide). */
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"]);
const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/s;

type Part = { text: string } | { inlineData: { mimeType: string; data: string } };
export type Content = { role: "user" | "model"; parts: Part[] };

/**
 * An image part as `inlineData`. Images by URL are refused before this (the entry does not list "imageUrls"):
 * Gemini's `fileData` takes files uploaded to its Files API, not web URLs; a data: URL is inline data.
 */
function inlineImage(part: ImagePart, label: string): Part {
  let mimeType: string;
  let data: string;
  if ("url" in part) {
    const inline = DATA_URL.exec(part.url);
    if (!inline) {
      throw new ValidationError(
        `${label}: Gemini batches take images as data (base64), not by URL.`,
        "unsupported_feature",
      );
    }
    [, mimeType = "", data = ""] = inline;
  } else {
    mimeType = part.mediaType;
    data = part.data;
  }
  if (!IMAGE_TYPES.has(mimeType)) {
    throw new ValidationError(
      `${label}: Gemini takes images as PNG, JPEG, WebP, HEIC or HEIF, not ${mimeType}.`,
      "unsupported_feature",
    );
  }
  return { inlineData: { mimeType, data } };
}

function partsOfContent(content: ChatMessage["content"], label: string): Part[] {
  return partsOf(content)
    .filter((part) => part.type !== "text" || part.text !== "")
    .map((part) => (part.type === "text" ? { text: part.text } : inlineImage(part, label)));
}

/**
 * Relay's conversation as Gemini contents: the system prompt and any system turns become `systemInstruction`
 * (Gemini has no system role), user turns stay `user`, assistant turns become `model`; parts become text and
 * `inlineData` parts.
 */
export function geminiConversation(request: BatchRequest): {
  system: string | undefined;
  contents: Content[];
} {
  const label = `request "${request.id}"`;
  const systemParts = request.systemPrompt ? [request.systemPrompt] : [];
  const contents: Content[] = [];
  for (const message of chatMessages(request, { includeSystem: false })) {
    if (message.role === "system") {
      systemParts.push(textOf(message.content));
      continue;
    }
    const parts = partsOfContent(message.content, label);
    contents.push({
      role: message.role === "assistant" ? "model" : "user",
      parts: parts.length > 0 ? parts : [{ text: "" }],
    });
  }
  return { system: systemParts.length > 0 ? systemParts.join("\n\n") : undefined, contents };
}
