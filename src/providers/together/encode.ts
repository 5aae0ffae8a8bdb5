import type { BatchRequest, ReasoningEffort } from "../../types.js";
import { type ChatDialect, chatCompletionBody, unsupported } from "../shared/openai-compatible/chat.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";

/** together-openapi.yaml's ChatCompletionRequest: `reasoning_effort` is one of low, medium, high. */
const EFFORTS: ReadonlySet<ReasoningEffort> = new Set(["low", "medium", "high"]);

/**
 * Together's chat completions (together-openapi.yaml): OpenAI's body with `max_tokens`, `response_format` as
 * `{type: "json_schema", json_schema: {name, schema, strict}}`, system and assistant content as plain text (only
 * user messages take parts), and `reasoning_effort` low to high.
 */
export const TOGETHER_CHAT: ChatDialect = {
  provider: "Together AI",
  maxTokensField: "max_tokens",
  reasoningEffort(effort, request) {
    if (!EFFORTS.has(effort)) {
      throw unsupported(
        request,
        `Together AI takes reasoningEffort "low", "medium" or "high", not "${effort}".`,
      );
    }
    return { reasoning_effort: effort };
  },
};

/** One input line: Together takes `{custom_id, body}` with no method or url (the batch names the endpoint). */
export function encodeTogetherLine(request: BatchRequest): string {
  return JSON.stringify({ custom_id: request.id, body: chatCompletionBody(request, TOGETHER_CHAT) });
}
