import type { BatchRequest, EmbeddingRequest } from "../../../types.js";
import { type ChatDialect, chatCompletionBody } from "./chat.js";
import { type ResponsesDialect, responsesRequestBody } from "./responses.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";
export const RESPONSES = "/v1/responses";
export const EMBEDDINGS = "/v1/embeddings";

/** How a provider of the OpenAI batch protocol writes the bodies of its lines. */
export interface LineDialects {
  chat: ChatDialect;
  /** Where the provider takes Responses-API lines. */
  responses?: ResponsesDialect;
}

/** One line of an OpenAI-protocol input file: `{custom_id, method, url, body}`. */
export function openAILine(customId: string, url: string, body: Record<string, unknown>): string {
  return JSON.stringify({ custom_id: customId, method: "POST", url, body });
}

export function encodeOpenAILine(request: BatchRequest, endpoint: string, dialects: LineDialects): string {
  const body =
    endpoint === RESPONSES && dialects.responses
      ? responsesRequestBody(request, dialects.responses)
      : chatCompletionBody(request, dialects.chat);
  return openAILine(request.id, endpoint, body);
}

/** An `/v1/embeddings` body: `{model, input, dimensions?}`, then `providerArgs`. */
export function embeddingsBody(request: EmbeddingRequest): Record<string, unknown> {
  return {
    model: request.model,
    input: request.input,
    ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
    ...request.providerArgs,
  };
}
