import { ValidationError } from "../../errors.js";
import type { BatchRequest } from "../../types.js";
import { chatMessages } from "../shared/messages.js";

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

/**
 * The request body for `endpoint`: the conversation (system prompt first), the output cap under that API's name,
 * then `providerArgs` as given. The one place a native body is built, so later features (structured output, tools,
 * images) go here.
 */
export function xaiRequestBody(request: BatchRequest, endpoint: string): Record<string, unknown> {
  const messages = chatMessages(request, { includeSystem: true });
  const responses = endpoint === RESPONSES;
  const capName = responses ? "max_output_tokens" : "max_completion_tokens";
  return {
    model: request.model,
    ...(responses ? { input: messages } : { messages }),
    ...(request.maxTokens === undefined ? {} : { [capName]: request.maxTokens }),
    ...request.providerArgs,
  };
}

/** One line of a shard: a batch request item `{batch_request_id, batch_request: {<kind>: body}}`. */
export function encodeXaiLine(request: BatchRequest, endpoint: string): string {
  const kind = REQUEST_KEYS[checkXaiEndpoint(endpoint)] as string;
  return JSON.stringify({
    batch_request_id: request.id,
    batch_request: { [kind]: xaiRequestBody(request, endpoint) },
  });
}
