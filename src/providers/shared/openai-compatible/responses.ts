import type { ResolvedFormat } from "../../../requests/format.js";
import { imageUrlOf } from "../../../requests/parts.js";
import type { BatchRequest, ChatMessage, ReasoningEffort } from "../../../types.js";
import { chatMessages } from "../messages.js";
import { formatOf, messageWithParts, unsupported } from "./chat.js";

type Json = Record<string, unknown>;

/** What one provider's Responses-API body does differently from OpenAI's (OpenAI, Azure OpenAI, xAI). */
export interface ResponsesDialect {
  readonly provider: string;
  /** Whether an `input_image` carries `detail` (OpenAI's schema requires it; xAI's has none). */
  readonly imageDetail: boolean;
  /** Whether a function tool carries `strict` (OpenAI's schema requires it; xAI ignores it). */
  readonly toolStrict: boolean;
  /**
   * Whether the system prompt is the first input message (xAI: "a single system message, always first") rather
   * than `instructions`; the input is then always a list of messages.
   */
  readonly systemAsMessage?: boolean;
  strictFor?(format: ResolvedFormat, request: BatchRequest): boolean;
  /** The fields that carry a reasoning effort; `reasoning: {effort}` unless given. */
  reasoningEffort?(effort: ReasoningEffort, request: BatchRequest): Json;
  cacheFields?(request: BatchRequest): Json;
  check?(request: BatchRequest): void;
}

/** A message as a Responses input item: user parts become `input_text` and `input_image`. */
function inputItem(
  message: ChatMessage,
  index: number,
  request: BatchRequest,
  dialect: ResponsesDialect,
): Json {
  return messageWithParts(message, index, request, (part) =>
    part.type === "text"
      ? { type: "input_text", text: part.text }
      : {
          type: "input_image",
          image_url: imageUrlOf(part),
          ...(dialect.imageDetail ? { detail: "auto" } : {}),
        },
  );
}

/**
 * The Responses-API body of a request. The system prompt is `instructions`; structured output is `text.format`
 * (the schema beside its name, not under `json_schema`); tools are flat `{type: "function", name, parameters}`;
 * a named tool choice is `{type: "function", name}`; reasoning effort is `reasoning.effort`. The Responses API has
 * no `seed` and no `stop`: those are refused. As in the Python Relay, `providerArgs.max_tokens` becomes
 * `max_output_tokens` and `providerArgs.reasoning_effort` becomes `reasoning.effort`.
 */
export function responsesRequestBody(request: BatchRequest, dialect: ResponsesDialect): Json {
  dialect.check?.(request);
  if (request.seed !== undefined) {
    throw unsupported(
      request,
      `${dialect.provider}'s Responses API takes no seed; use /v1/chat/completions for it.`,
    );
  }
  if (request.stopSequences !== undefined) {
    throw unsupported(
      request,
      `${dialect.provider}'s Responses API takes no stop sequences; use /v1/chat/completions for them.`,
    );
  }
  const { max_tokens, reasoning_effort, ...rest } = request.providerArgs ?? {};
  const maxOutputTokens = request.maxTokens ?? max_tokens;
  const systemAsMessage = dialect.systemAsMessage === true;
  const input =
    request.messages || systemAsMessage
      ? chatMessages(request, { includeSystem: systemAsMessage }).map((message, index) =>
          inputItem(message, index, request, dialect),
        )
      : request.prompt;
  const body: Json = {
    model: request.model,
    input,
    ...(request.systemPrompt && !systemAsMessage ? { instructions: request.systemPrompt } : {}),
    ...(maxOutputTokens === undefined ? {} : { max_output_tokens: maxOutputTokens }),
  };
  const format = formatOf(request);
  if (format) {
    const strict = dialect.strictFor ? dialect.strictFor(format, request) : format.strict;
    body.text = { format: { type: "json_schema", name: format.name, schema: format.schema, strict } };
  }
  if (request.tools) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.parameters,
      // Relay's tools say nothing of strictness; OpenAI requires the field, and false takes any schema.
      ...(dialect.toolStrict ? { strict: false } : {}),
    }));
    const choice = request.toolChoice;
    if (choice !== undefined)
      body.tool_choice = typeof choice === "string" ? choice : { type: "function", name: choice.name };
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  const effort = request.reasoningEffort ?? reasoning_effort;
  if (effort !== undefined) {
    Object.assign(
      body,
      dialect.reasoningEffort && request.reasoningEffort !== undefined
        ? dialect.reasoningEffort(request.reasoningEffort, request)
        : { reasoning: { effort } },
    );
  }
  if (request.cacheSystemPrompt) Object.assign(body, dialect.cacheFields?.(request));
  return { ...body, ...rest };
}
