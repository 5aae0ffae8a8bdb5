import type { BatchRequest, EmbeddingRequest } from "../../types.js";
import {
  type ChatDialect,
  chatCompletionBody,
  systemPromptCacheKey,
  unsupported,
} from "../shared/openai-compatible/chat.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";
export const EMBEDDINGS = "/v1/embeddings";

/**
 * Mistral's chat completions (mistral-openapi.yaml, ChatCompletionRequest, which forbids unknown fields: 422
 * `extra_forbidden`). Without `model`: the batch guide has it "provided only during the job creation", and Relay
 * names it there (one model per batch). Mistral's own names: `max_tokens`, `random_seed` (at least 0), a
 * temperature up to 1.5, `reasoning_effort` "high" (the spec's only value besides "none"), and
 * `prompt_cache_key` for a shared system prompt (cached tokens bill at 10%).
 */
export const MISTRAL_CHAT: ChatDialect = {
  provider: "Mistral",
  maxTokensField: "max_tokens",
  modelInBody: false,
  seedField: "random_seed",
  maxTemperature: 1.5,
  reasoningEffort(effort, request) {
    if (effort !== "high") {
      throw unsupported(
        request,
        `Mistral's reasoning_effort is "high" (or "none", by providerArgs), not "${effort}".`,
      );
    }
    return { reasoning_effort: effort };
  },
  cacheFields: (request) => ({ prompt_cache_key: systemPromptCacheKey(request) }),
  check(request) {
    if (request.seed !== undefined && request.seed < 0) {
      throw unsupported(request, `Mistral's random_seed is at least 0, not ${request.seed}.`);
    }
  },
};

/** The chat-completions body of one request. */
export function mistralChatBody(request: BatchRequest): Record<string, unknown> {
  return chatCompletionBody(request, MISTRAL_CHAT);
}

/** One input line: `{custom_id, body}`. */
export function encodeMistralLine(request: BatchRequest): string {
  return JSON.stringify({ custom_id: request.id, body: mistralChatBody(request) });
}

/** One embeddings line (EmbeddingRequest, the model named on the job): `{custom_id, body: {input, output_dimension?}}`. */
export function encodeMistralEmbedding(request: EmbeddingRequest): string {
  const body = {
    input: request.input,
    ...(request.dimensions === undefined ? {} : { output_dimension: request.dimensions }),
    ...request.providerArgs,
  };
  return JSON.stringify({ custom_id: request.id, body });
}
