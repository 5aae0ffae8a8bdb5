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
export { readRequestsFile } from "./input/jsonl.js";
export type { JobFilter, JobListing } from "./jobs/listing.js";
export type { JobProgress, ShardProgress } from "./jobs/watch.js";
export { supportedProviders } from "./providers/registry.js";
export type { ProviderConfig } from "./providers/types.js";
export * from "./types.js";
export type { JobRecord, ShardRecord, ShardState, StoredCostEstimate } from "./workspace/job-record.js";
