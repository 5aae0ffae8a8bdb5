import type { BatchRequest, EmbeddingRequest } from "../../types.js";
import { type ChatDialect, systemPromptCacheKey, unsupported } from "../shared/openai-compatible/chat.js";
import {
  EMBEDDINGS,
  embeddingsBody,
  type LineDialects,
  openAILine,
} from "../shared/openai-compatible/encode.js";
import type { ResponsesDialect } from "../shared/openai-compatible/responses.js";
import { strictOrRefuse } from "../shared/openai-compatible/strict-schema.js";

/** Prompt caching is automatic at OpenAI; `prompt_cache_key` routes requests that share a system prompt together. */
const cacheFields = (request: BatchRequest) => ({ prompt_cache_key: systemPromptCacheKey(request) });

export const OPENAI_CHAT: ChatDialect = {
  provider: "OpenAI",
  maxTokensField: "max_completion_tokens",
  // StopConfiguration: "Up to 4 sequences".
  maxStopSequences: 4,
  strictFor: strictOrRefuse("OpenAI"),
  reasoningEffort: (effort) => ({ reasoning_effort: effort }),
  cacheFields,
};

export const OPENAI_RESPONSES: ResponsesDialect = {
  provider: "OpenAI",
  imageDetail: true,
  toolStrict: true,
  strictFor: strictOrRefuse("OpenAI"),
  cacheFields,
};

export const OPENAI_LINES: LineDialects = { chat: OPENAI_CHAT, responses: OPENAI_RESPONSES };

/** `dimensions` is "only supported in text-embedding-3 and later models" (CreateEmbeddingRequest). */
const FIXED_DIMENSIONS = /^text-embedding-ada-/;

/** One `/v1/embeddings` line. */
export function encodeOpenAIEmbedding(request: EmbeddingRequest): string {
  if (request.dimensions !== undefined && FIXED_DIMENSIONS.test(request.model)) {
    throw unsupported(
      request,
      `${request.model} has a fixed vector length; dimensions is only for text-embedding-3 and later models.`,
    );
  }
  return openAILine(request.id, EMBEDDINGS, embeddingsBody(request));
}
