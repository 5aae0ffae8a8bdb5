import { APPROXIMATE_COUNTER, type TokenCounter } from "../cost/tokenizer.js";
import { imagesOf, textOf } from "../requests/parts.js";
import type { BatchRequest } from "../types.js";

/**
 * Tokens a message costs beyond its text (role and separators), as OpenAI counts them for chat models; also used
 * for the approximation, so that it errs high.
 */
const PER_MESSAGE_TOKENS = 4;
/**
 * What an image costs, approximately: OpenAI's figure for a 1024×1024 image at high detail (765). Providers count
 * images their own way, by size; this only keeps estimates and budgets from ignoring them.
 */
const IMAGE_TOKENS = 765;
/** Every reply is primed with a few tokens. */
const PER_REQUEST_TOKENS = 3;

/** The texts of a request's prompt, in the order the model reads them. */
export function* promptTexts(request: BatchRequest): Generator<string> {
  if (request.systemPrompt !== undefined) yield request.systemPrompt;
  for (const message of request.messages ?? []) yield textOf(message.content);
  if (request.prompt !== undefined) yield request.prompt;
}

/**
 * A request's prompt tokens: its texts counted by `counter` (the model's tokenizer, or by default the approximation
 * of about four characters a token), plus a few per message. Used for cost estimates and the enqueued-token budget.
 */
export function countPromptTokens(
  request: BatchRequest,
  counter: TokenCounter = APPROXIMATE_COUNTER,
): number {
  let tokens = PER_REQUEST_TOKENS;
  for (const text of promptTexts(request)) tokens += counter.count(text) + PER_MESSAGE_TOKENS;
  for (const message of request.messages ?? []) tokens += imagesOf(message.content).length * IMAGE_TOKENS;
  return tokens;
}

/** The approximate prompt tokens of a request (see countPromptTokens). */
export function estimatePromptTokens(request: BatchRequest): number {
  return countPromptTokens(request);
}
