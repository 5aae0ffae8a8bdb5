/**
 * The one workload every benchmark runs: n single-turn prompts for one model, sent to OpenAI's /v1/responses batch
 * endpoint (the only endpoint the AI SDK's OpenAI batch uses, so Relay is given the same one).
 */

export const MODEL = "gpt-4o-mini";
export const ENDPOINT = "/v1/responses";

/** Request IDs sort in request order and carry their position: `req-0000042`. */
export function idOf(index: number): string {
  return `req-${String(index).padStart(7, "0")}`;
}

export function indexOfId(id: string): number {
  return Number(id.slice(4));
}

const CONTEXT =
  "You are helping to label a product catalogue. Answer in one short sentence, plain text, no lists, " +
  "no markdown, and do not repeat the question. If the item is ambiguous, say so briefly.";

/** About 270 characters: a realistic short classification prompt, distinct per request. */
export function promptOf(index: number): string {
  return `${CONTEXT} Item ${index}: which department should sell catalogue entry number ${index * 7919}?`;
}
