import type { BatchRequest, ChatMessage } from "../../types.js";

/** The conversation of a request: system prompt, earlier turns, then the prompt as the last user turn. */
export function chatMessages(request: BatchRequest, options: { includeSystem: boolean }): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (options.includeSystem && request.systemPrompt)
    messages.push({ role: "system", content: request.systemPrompt });
  if (request.messages) messages.push(...request.messages);
  if (request.prompt !== undefined) messages.push({ role: "user", content: request.prompt });
  return messages;
}
