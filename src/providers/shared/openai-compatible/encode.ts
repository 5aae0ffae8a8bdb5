import type { BatchRequest } from "../../../types.js";
import { chatMessages } from "../messages.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";
export const RESPONSES = "/v1/responses";

/** The request body for the chat completions endpoint. */
export function chatCompletionsBody(request: BatchRequest): Record<string, unknown> {
  return {
    model: request.model,
    messages: chatMessages(request, { includeSystem: true }),
    ...(request.maxTokens === undefined ? {} : { max_completion_tokens: request.maxTokens }),
    ...request.providerArgs,
  };
}

/**
 * The request body for the Responses endpoint. As in the Python Relay, `providerArgs.max_tokens` becomes
 * `max_output_tokens` and `providerArgs.reasoning_effort` becomes `reasoning.effort`.
 */
export function responsesBody(request: BatchRequest): Record<string, unknown> {
  const { max_tokens, reasoning_effort, ...rest } = request.providerArgs ?? {};
  const maxOutputTokens = request.maxTokens ?? max_tokens;
  const input = request.messages ? chatMessages(request, { includeSystem: false }) : request.prompt;
  return {
    model: request.model,
    input,
    ...(request.systemPrompt ? { instructions: request.systemPrompt } : {}),
    ...(maxOutputTokens === undefined ? {} : { max_output_tokens: maxOutputTokens }),
    ...(reasoning_effort === undefined ? {} : { reasoning: { effort: reasoning_effort } }),
    ...rest,
  };
}

export function encodeOpenAILine(request: BatchRequest, endpoint: string): string {
  const body = endpoint === RESPONSES ? responsesBody(request) : chatCompletionsBody(request);
  return JSON.stringify({ custom_id: request.id, method: "POST", url: endpoint, body });
}
