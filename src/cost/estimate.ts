import { countPromptTokens } from "../jobs/tokens.js";
import type { ProviderEntry } from "../providers/entry.js";
import type { BatchRequest } from "../types.js";
import { type CostReport, CostTally } from "./tally.js";
import { TokenCounters } from "./tokenizer.js";

/** Output tokens assumed for a request that sets no maxTokens, when estimating. */
export const DEFAULT_ESTIMATED_OUTPUT_TOKENS = 256;

export interface CostEstimate extends CostReport {
  /** Whether every request's prompt was counted by the model's own tokenizer (else partly approximated). */
  exactInputTokens: boolean;
  /** Requests whose output was assumed (no maxTokens), at `outputTokensPerRequest` each. */
  assumedOutputRequests: number;
}

/**
 * What the requests would cost at batch prices: prompt tokens counted with the model's tokenizer where Relay has
 * one (OpenAI's models), else approximated; output tokens at each request's maxTokens (the most it can cost), or
 * `outputTokensPerRequest` for requests without one.
 */
export async function estimateCost(
  entry: ProviderEntry,
  requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>,
  options: { outputTokensPerRequest?: number } = {},
): Promise<CostEstimate> {
  const assumed = options.outputTokensPerRequest ?? DEFAULT_ESTIMATED_OUTPUT_TOKENS;
  const tally = new CostTally(entry);
  const counters = new TokenCounters();
  let exact = true;
  let assumedOutputRequests = 0;
  for await (const request of requests) {
    const counter = await counters.get(request.model);
    exact &&= counter.exact;
    const inputTokens = countPromptTokens(request, counter);
    if (request.maxTokens === undefined) assumedOutputRequests += 1;
    const outputTokens = request.maxTokens ?? assumed;
    tally.add(request.model, { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens });
  }
  return { ...tally.report(), exactInputTokens: exact, assumedOutputRequests };
}
