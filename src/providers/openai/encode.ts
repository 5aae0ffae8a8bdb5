import type { ResolvedFormat } from "../../requests/format.js";
import type { BatchRequest, EmbeddingRequest } from "../../types.js";
import { type ChatDialect, systemPromptCacheKey, unsupported } from "../shared/openai-compatible/chat.js";
import {
  EMBEDDINGS,
  embeddingsBody,
  type LineDialects,
  openAILine,
} from "../shared/openai-compatible/encode.js";
import type { ResponsesDialect } from "../shared/openai-compatible/responses.js";
import { strictSchemaProblem } from "../shared/openai-compatible/strict-schema.js";

/**
 * Strict structured outputs refuse a schema outside their subset (every property required, no additional
 * properties): such a request is refused before sending rather than failing in the batch.
 */
export function strictOrRefuse(provider: string) {
  return (format: ResolvedFormat, request: BatchRequest): boolean => {
    if (!format.strict) return false;
    const problem = strictSchemaProblem(format.schema);
    if (problem) {
      throw unsupported(
        request,
        `${provider}'s strict structured output cannot take the schema "${format.name}": ${problem}. ` +
          "Fix the schema, or give responseFormat with strict: false (Relay still checks every answer against it).",
      );
    }
    return true;
  };
}

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
