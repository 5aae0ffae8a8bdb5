import type { BatchRequest } from "../../types.js";
import { chatMessages } from "../shared/messages.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";

/**
 * The chat-completions body of one request, without `model`: Mistral's batch guide has the model "provided only
 * during the job creation", and Relay names it there (one model per batch). Mistral refuses fields it does not
 * know (422 `extra_forbidden`), so only its own names are set: `max_tokens`, never `max_completion_tokens`.
 */
export function mistralChatBody(request: BatchRequest): Record<string, unknown> {
  return {
    messages: chatMessages(request, { includeSystem: true }),
    ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    ...request.providerArgs,
  };
}

/** One input line: `{custom_id, body}`. */
export function encodeMistralLine(request: BatchRequest): string {
  return JSON.stringify({ custom_id: request.id, body: mistralChatBody(request) });
}
