import type { BatchRequest } from "../../types.js";
import { chatMessages } from "../shared/messages.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";

/** One input line: Together takes `{custom_id, body}` with no method or url (the batch names the endpoint). */
export function encodeTogetherLine(request: BatchRequest): string {
  const body = {
    model: request.model,
    messages: chatMessages(request, { includeSystem: true }),
    ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    ...request.providerArgs,
  };
  return JSON.stringify({ custom_id: request.id, body });
}
