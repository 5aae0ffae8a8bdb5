export {
  type BatchPlan,
  type CleanupReport,
  type JobCost,
  RelayClient,
  type RelayClientOptions,
  type ResultsOptions,
  type RetryOptions,
  type SubmitBatchOptions,
  type WaitOptions,
} from "./client.js";
export type { CostEstimate } from "./cost/estimate.js";
export type { CostReport, ModelCost } from "./cost/tally.js";
export * from "./errors.js";
export { type ReadRequestsOptions, readRequestsFile } from "./input/jsonl.js";
export type { JobFilter, JobListing } from "./jobs/listing.js";
export { DEFAULT_MAX_BYTES_PER_JOB, DEFAULT_MAX_REQUESTS_PER_JOB } from "./jobs/options.js";
export type { JobProgress, ShardProgress } from "./jobs/watch.js";
export { supportedProviders } from "./providers/registry.js";
export type { RetryListener, RetryNotice } from "./providers/shared/retry-notice.js";
export type { ProviderConfig } from "./providers/types.js";
export * from "./types.js";
export type { JobRecord, ShardRecord, ShardState, StoredCostEstimate } from "./workspace/job-record.js";
