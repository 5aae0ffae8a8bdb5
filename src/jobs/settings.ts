import type { ProviderAdapter, ProviderConfig, ProviderLimits } from "../providers/types.js";
import type { ProviderName } from "../types.js";
import { type TokenBudget, tokenBudget } from "./budget.js";
import { DEFAULT_MAX_BYTES_PER_JOB, DEFAULT_MAX_REQUESTS_PER_JOB } from "./options.js";
import { DEFAULT_REQUEUE_DELAY_MS } from "./submit.js";

/** How the pipelines behave, from the client's options. */
export interface PipelineSettings {
  /** How many shards are uploaded and created at once. */
  submitConcurrency: number;
  /** The first wait before a shard refused for a passing reason is sent again. */
  requeueDelayMs: number;
  /** The provider's limits, lowered where the configuration asks for smaller batches (never raised). */
  limits(adapter: ProviderAdapter): ProviderLimits;
  /** The provider's enqueued-token budget, if one is configured. */
  budget(adapter: ProviderAdapter): TokenBudget | undefined;
  /** The largest job accepted, in requests and in encoded bytes (job_too_large past it). */
  maxRequestsPerJob: number;
  maxBytesPerJob: number;
}

export function pipelineSettings(options: {
  providers: Partial<Record<ProviderName, ProviderConfig>>;
  submitConcurrency?: number | undefined;
  requeueDelayMs?: number | undefined;
  maxRequestsPerJob?: number | undefined;
  maxBytesPerJob?: number | undefined;
}): PipelineSettings {
  const configOf = (adapter: ProviderAdapter) => options.providers[adapter.name as ProviderName];
  const lower = (limit: number, wanted: number | undefined) =>
    wanted !== undefined && Number.isInteger(wanted) && wanted > 0 ? Math.min(limit, wanted) : limit;
  return {
    submitConcurrency: Math.max(1, options.submitConcurrency ?? 4),
    requeueDelayMs: options.requeueDelayMs ?? DEFAULT_REQUEUE_DELAY_MS,
    limits: (adapter) => ({
      ...adapter.limits,
      maxRequestsPerBatch: lower(adapter.limits.maxRequestsPerBatch, configOf(adapter)?.maxRequestsPerBatch),
      maxBytesPerBatch: lower(adapter.limits.maxBytesPerBatch, configOf(adapter)?.maxBytesPerBatch),
    }),
    budget: (adapter) => tokenBudget(configOf(adapter)?.enqueuedTokenBudget),
    maxRequestsPerJob: options.maxRequestsPerJob ?? DEFAULT_MAX_REQUESTS_PER_JOB,
    maxBytesPerJob: options.maxBytesPerJob ?? DEFAULT_MAX_BYTES_PER_JOB,
  };
}
