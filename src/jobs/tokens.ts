import type { BatchRequest } from "../types.js";

/** Tokens a message costs beyond its text (role and separators), roughly as OpenAI counts them. */
const PER_MESSAGE_TOKENS = 4;

/**
 * An estimate of a request's prompt tokens, without a tokenizer: about four characters a token for English text,
 * rounded up, plus a few tokens per message. Used only to keep shards within an enqueued-token budget, so it errs
 * high; set the budget below the provider's limit to leave room for the difference.
 */
export function estimatePromptTokens(request: BatchRequest): number {
  let tokens = 0;
  const add = (text: string | undefined) => {
    if (text === undefined) return;
    tokens += Math.ceil(text.length / 4) + PER_MESSAGE_TOKENS;
  };
  add(request.systemPrompt);
  for (const message of request.messages ?? []) add(message.content);
  add(request.prompt);
  return tokens;
}
