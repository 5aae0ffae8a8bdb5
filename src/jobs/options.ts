import { ValidationError } from "../errors.js";
import { checkBaseURL } from "../providers/shared/base-url.js";
import { checkNumber, checkOptionalNumber, MAX_TIMER_MS } from "../util/numeric-option.js";

/** The largest job Relay accepts unless told otherwise: far beyond any provider's batch, well short of a full disk. */
export const DEFAULT_MAX_REQUESTS_PER_JOB = 10_000_000;
/** Bytes of encoded requests, across all of a job's shards. */
export const DEFAULT_MAX_BYTES_PER_JOB = 20 * 1024 ** 3;

/** The numeric options every provider's configuration shares, checked the same way for each. */
interface SharedProviderOptions {
  apiKey?: unknown;
  baseURL?: unknown;
  timeoutMs?: unknown;
  maxRetries?: unknown;
  maxRequestsPerBatch?: unknown;
  maxBytesPerBatch?: unknown;
  enqueuedTokenBudget?: unknown;
}

/** Throws a ValidationError naming the first option of a provider's configuration that cannot be used. */
export function checkProviderOptions(provider: string, config: SharedProviderOptions | undefined): void {
  if (config === undefined) return;
  if (config === null || typeof config !== "object") {
    throw new ValidationError(`providers.${provider} must be an object.`, "invalid_option");
  }
  const name = (option: string) => `providers.${provider}.${option}`;
  if (config.apiKey !== undefined && (typeof config.apiKey !== "string" || config.apiKey.trim() === "")) {
    throw new ValidationError(`${name("apiKey")} must be a non-empty string.`, "invalid_option");
  }
  if (config.baseURL !== undefined) checkBaseURL(name("baseURL"), config.baseURL);
  checkOptionalNumber(name("timeoutMs"), config.timeoutMs, { min: 100, max: MAX_TIMER_MS, unit: "ms" });
  checkOptionalNumber(name("maxRetries"), config.maxRetries, { min: 0, max: 100, integer: true });
  checkOptionalNumber(name("maxRequestsPerBatch"), config.maxRequestsPerBatch, { min: 1, integer: true });
  checkOptionalNumber(name("maxBytesPerBatch"), config.maxBytesPerBatch, { min: 1, integer: true });
  const budget = config.enqueuedTokenBudget;
  if (budget === undefined) return;
  const tokens = { min: 1 };
  if (typeof budget === "number") checkNumber(name("enqueuedTokenBudget"), budget, tokens);
  else if (budget !== null && typeof budget === "object" && !Array.isArray(budget)) {
    for (const [model, value] of Object.entries(budget))
      checkNumber(`${name("enqueuedTokenBudget")}[${JSON.stringify(model)}]`, value, tokens);
  } else {
    throw new ValidationError(
      `${name("enqueuedTokenBudget")} must be a number of tokens, or an object of them per model.`,
      "invalid_option",
    );
  }
}

export interface CheckedClientOptions {
  submitConcurrency: number;
  requeueDelayMs: number | undefined;
  maxRequestsPerJob: number;
  maxBytesPerJob: number;
}

/** Checks the client's own numeric options and every provider's configuration, before anything is done. */
export function checkClientOptions(options: {
  submitConcurrency?: unknown;
  requeueDelayMs?: unknown;
  maxRequestsPerJob?: unknown;
  maxBytesPerJob?: unknown;
  lock?: { waitMs?: unknown; staleMs?: unknown };
  providers?: Record<string, SharedProviderOptions | undefined>;
}): CheckedClientOptions {
  const checked: CheckedClientOptions = {
    submitConcurrency:
      checkOptionalNumber("submitConcurrency", options.submitConcurrency, {
        min: 1,
        max: 256,
        integer: true,
      }) ?? 4,
    requeueDelayMs: checkOptionalNumber("requeueDelayMs", options.requeueDelayMs, {
      min: 0,
      max: MAX_TIMER_MS,
      unit: "ms",
    }),
    maxRequestsPerJob:
      checkOptionalNumber("maxRequestsPerJob", options.maxRequestsPerJob, { min: 1, integer: true }) ??
      DEFAULT_MAX_REQUESTS_PER_JOB,
    maxBytesPerJob:
      checkOptionalNumber("maxBytesPerJob", options.maxBytesPerJob, { min: 1, integer: true }) ??
      DEFAULT_MAX_BYTES_PER_JOB,
  };
  if (options.lock !== undefined) {
    checkOptionalNumber("lock.waitMs", options.lock?.waitMs, { min: 0, max: MAX_TIMER_MS, unit: "ms" });
    // Shorter than a few heartbeats, a live holder's lock would be taken over.
    checkOptionalNumber("lock.staleMs", options.lock?.staleMs, { min: 1_000, max: MAX_TIMER_MS, unit: "ms" });
  }
  for (const [provider, config] of Object.entries(options.providers ?? {}))
    checkProviderOptions(provider, config);
  return checked;
}

/** The polling intervals of waitForBatch: a timer must be able to honour them (no tight loop, no overflow). */
export function checkWaitOptions(options: { pollIntervalMs?: unknown; maxPollIntervalMs?: unknown }): {
  pollIntervalMs: number;
  maxPollIntervalMs: number;
} {
  const rule = { min: 1, max: MAX_TIMER_MS, unit: "ms" };
  const pollIntervalMs = checkOptionalNumber("pollIntervalMs", options.pollIntervalMs, rule) ?? 30_000;
  const longest = checkOptionalNumber("maxPollIntervalMs", options.maxPollIntervalMs, rule) ?? 10 * 60_000;
  return { pollIntervalMs, maxPollIntervalMs: Math.max(pollIntervalMs, longest) };
}
