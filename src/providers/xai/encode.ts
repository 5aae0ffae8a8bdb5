import { ValidationError } from "../../errors.js";
import type { BatchRequest } from "../../types.js";
import {
  type ChatDialect,
  chatCompletionBody,
  systemPromptCacheKey,
  unsupported,
} from "../shared/openai-compatible/chat.js";
import { type ResponsesDialect, responsesRequestBody } from "../shared/openai-compatible/responses.js";

/** The Responses API: what xAI's own SDK sends text batch requests as (`batch_request.responses`). */
export const RESPONSES = "/v1/responses";
/** Chat completions (`batch_request.chat_get_completion`), the gRPC API's completion request. */
export const CHAT_COMPLETIONS = "/v1/chat/completions";

const REQUEST_KEYS: Record<string, string> = {
  [RESPONSES]: "responses",
  [CHAT_COMPLETIONS]: "chat_get_completion",
};

export function checkXaiEndpoint(endpoint: string | null): string {
  const chosen = endpoint ?? RESPONSES;
  if (!(chosen in REQUEST_KEYS)) {
    throw new ValidationError(
      `xAI batches in Relay support the endpoints ${RESPONSES} (the default) and ${CHAT_COMPLETIONS}, not "${chosen}".`,
      "unsupported_endpoint",
    );
  }
  return chosen;
}

/** Prompt caching is automatic; `prompt_cache_key` ("best-effort sticky routing") groups a shared system prompt. */
const cacheFields = (request: BatchRequest) => ({ prompt_cache_key: systemPromptCacheKey(request) });

const INT32_MAX = 2 ** 31 - 1;

/**
 * xAI's ChatRequest (xai-sdk-ts spec/openapi.json): OpenAI's body; `seed` is an int32, `stop` takes up to 4
 * sequences, and `reasoning_effort` values "depend on the model" (passed as given).
 */
const XAI_CHAT: ChatDialect = {
  provider: "xAI",
  maxTokensField: "max_completion_tokens",
  maxStopSequences: 4,
  reasoningEffort: (effort) => ({ reasoning_effort: effort }),
  cacheFields,
  check(request) {
    if (request.seed !== undefined && Math.abs(request.seed) > INT32_MAX) {
      throw unsupported(request, `xAI's seed is a 32-bit integer, not ${request.seed}.`);
    }
  },
};

/**
 * xAI's ModelRequest: OpenAI's Responses body, the system prompt as the first input message, `input_image` without
 * `detail` and function tools without `strict` (neither is in xAI's schema).
 */
const XAI_RESPONSES: ResponsesDialect = {
  provider: "xAI",
  imageDetail: false,
  toolStrict: false,
  systemAsMessage: true,
  cacheFields,
};

/**
 * The request body for `endpoint`. The one place a native body is built: the shared chat and Responses shapes,
 * with xAI's differences above.
 */
export function xaiRequestBody(request: BatchRequest, endpoint: string): Record<string, unknown> {
  return endpoint === RESPONSES
    ? responsesRequestBody(request, XAI_RESPONSES)
    : chatCompletionBody(request, XAI_CHAT);
}

/** One line of a shard: a batch request item `{batch_request_id, batch_request: {<kind>: body}}`. */
export function encodeXaiLine(request: BatchRequest, endpoint: string): string {
  const kind = REQUEST_KEYS[checkXaiEndpoint(endpoint)] as string;
  return JSON.stringify({
    batch_request_id: request.id,
    batch_request: { [kind]: xaiRequestBody(request, endpoint) },
  });
}
