import { createHash } from "node:crypto";
import { ValidationError } from "../../../errors.js";
import { type ResolvedFormat, resolveResponseFormat } from "../../../requests/format.js";
import { imagesOf, imageUrlOf, textOf } from "../../../requests/parts.js";
import type { BatchRequest, ChatMessage, ContentPart, ReasoningEffort, ToolChoice } from "../../../types.js";
import { chatMessages } from "../messages.js";

type Json = Record<string, unknown>;

/**
 * What one provider's chat-completions body does differently from OpenAI's. Everything else (messages and their
 * parts, `response_format`, `tools`, `tool_choice`, sampling options) is built once, in `chatCompletionBody`.
 */
export interface ChatDialect {
  /** The provider, as errors name it. */
  readonly provider: string;
  /** The field that carries `maxTokens`. */
  readonly maxTokensField: "max_completion_tokens" | "max_tokens";
  /** Whether the body names the model (Mistral names it on the batch job instead). Default true. */
  readonly modelInBody?: boolean;
  /** The field that carries `seed`. Default "seed". */
  readonly seedField?: string;
  /** The most stop sequences a request takes, where the provider documents a cap. */
  readonly maxStopSequences?: number;
  /** The highest temperature the provider takes, where lower than Relay's 2. */
  readonly maxTemperature?: number;
  /** The `strict` sent with a response format, from the one asked for (e.g. off where the model cannot). */
  strictFor?(format: ResolvedFormat, request: BatchRequest): boolean;
  /** The fields that carry a reasoning effort, or a ValidationError where the provider or model cannot take it. */
  reasoningEffort?(effort: ReasoningEffort, request: BatchRequest): Json;
  /** The fields that mark the system prompt for the prompt cache; none where caching needs nothing. */
  cacheFields?(request: BatchRequest): Json;
  /** Refuses what the provider documents the request's model cannot do (image limits, model lists). */
  check?(request: BatchRequest): void;
}

/** How an error names a request. */
export const labelOf = (request: { id: string }) => `request "${request.id}"`;

/** A refusal of something the provider cannot take, before anything is sent. */
export function unsupported(request: { id: string }, what: string): ValidationError {
  return new ValidationError(`${labelOf(request)}: ${what}`, "unsupported_feature");
}

/**
 * A message in an OpenAI-style shape, each part of a user message mapped by `partOf`. Images go only in user
 * messages (the only role whose content takes image parts at OpenAI, and the one where every OpenAI-compatible API
 * takes them); other roles' parts are joined into their text, which every such API takes (in the Responses API,
 * earlier assistant turns take output parts, not input ones: their text, as a string, suits every role).
 */
export function messageWithParts(
  message: ChatMessage,
  index: number,
  request: BatchRequest,
  partOf: (part: ContentPart) => Json,
): Json {
  const { role, content } = message;
  if (typeof content === "string") return { role, content };
  if (role !== "user") {
    if (imagesOf(content).length > 0) {
      throw unsupported(
        request,
        `messages[${index}] is a ${role} message with images; images go in user messages.`,
      );
    }
    return { role, content: textOf(content) };
  }
  return { role, content: content.map(partOf) };
}

/** A message in the OpenAI chat shape: `text` and `image_url` parts. */
export function chatMessage(message: ChatMessage, index: number, request: BatchRequest): Json {
  return messageWithParts(message, index, request, (part) =>
    part.type === "text"
      ? { type: "text", text: part.text }
      : { type: "image_url", image_url: { url: imageUrlOf(part) } },
  );
}

export function jsonSchemaResponseFormat(format: ResolvedFormat, strict: boolean): Json {
  return { type: "json_schema", json_schema: { name: format.name, schema: format.schema, strict } };
}

/** `tools` in the chat shape: each a `function` tool. */
export function chatTools(request: BatchRequest): Json[] | undefined {
  return request.tools?.map((tool) => ({
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.parameters,
    },
  }));
}

/** `tool_choice` in the chat shape: a mode, or `{type: "function", function: {name}}`. */
export function chatToolChoice(choice: ToolChoice | undefined): unknown {
  if (choice === undefined) return undefined;
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/**
 * A key shared by every request with the same system prompt, for providers whose prompt cache is automatic but
 * routes by a key (`prompt_cache_key`): requests that share their longest common prefix land on the same cache.
 */
export function systemPromptCacheKey(request: BatchRequest): string {
  const digest = createHash("sha256")
    .update(request.systemPrompt ?? "")
    .digest("hex");
  return `relay-${digest.slice(0, 32)}`;
}

/** The generation options every OpenAI-shaped API names alike, checked against the dialect's bounds. */
function samplingFields(request: BatchRequest, dialect: ChatDialect): Json {
  const fields: Json = {};
  if (request.temperature !== undefined) {
    if (dialect.maxTemperature !== undefined && request.temperature > dialect.maxTemperature) {
      throw unsupported(
        request,
        `${dialect.provider} takes a temperature from 0 to ${dialect.maxTemperature}, not ${request.temperature}.`,
      );
    }
    fields.temperature = request.temperature;
  }
  if (request.topP !== undefined) fields.top_p = request.topP;
  if (request.stopSequences !== undefined) {
    const cap = dialect.maxStopSequences;
    if (cap !== undefined && request.stopSequences.length > cap) {
      throw unsupported(
        request,
        `${dialect.provider} takes at most ${cap} stop sequences, not ${request.stopSequences.length}.`,
      );
    }
    fields.stop = request.stopSequences;
  }
  if (request.seed !== undefined) fields[dialect.seedField ?? "seed"] = request.seed;
  return fields;
}

/** The request's structured-output format, resolved (zod converted), or undefined. */
export function formatOf(request: BatchRequest): ResolvedFormat | undefined {
  return request.responseFormat === undefined
    ? undefined
    : resolveResponseFormat(request.responseFormat, labelOf(request));
}

/**
 * The chat-completions body of a request: model, conversation (parts mapped to `text` and `image_url`), the output
 * cap under the dialect's name, structured output, tools, sampling options, reasoning effort and prompt-cache
 * fields, then `providerArgs` as given (they win).
 */
export function chatCompletionBody(request: BatchRequest, dialect: ChatDialect): Json {
  dialect.check?.(request);
  const messages = chatMessages(request, { includeSystem: true }).map((message, index) =>
    chatMessage(message, index, request),
  );
  const format = formatOf(request);
  const body: Json = {
    ...(dialect.modelInBody === false ? {} : { model: request.model }),
    messages,
    ...(request.maxTokens === undefined ? {} : { [dialect.maxTokensField]: request.maxTokens }),
  };
  if (format) {
    const strict = dialect.strictFor ? dialect.strictFor(format, request) : format.strict;
    body.response_format = jsonSchemaResponseFormat(format, strict);
  }
  const tools = chatTools(request);
  if (tools) body.tools = tools;
  // "none" without tools says nothing, and a tool_choice without tools is refused: it is left out.
  const choice = chatToolChoice(request.toolChoice);
  if (choice !== undefined && tools) body.tool_choice = choice;
  Object.assign(body, samplingFields(request, dialect));
  if (request.reasoningEffort !== undefined) {
    if (!dialect.reasoningEffort) {
      throw unsupported(request, `${dialect.provider} takes no reasoningEffort.`);
    }
    Object.assign(body, dialect.reasoningEffort(request.reasoningEffort, request));
  }
  if (request.cacheSystemPrompt) Object.assign(body, dialect.cacheFields?.(request));
  return { ...body, ...request.providerArgs };
}
