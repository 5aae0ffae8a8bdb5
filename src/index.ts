export { RelayClient, type RelayClientOptions, type SubmitBatchOptions, type WaitOptions } from "./client.js";
export * from "./errors.js";
export { type ReadRequestsOptions, readRequestsFile } from "./input/jsonl.js";
export { DEFAULT_MAX_BYTES_PER_JOB, DEFAULT_MAX_REQUESTS_PER_JOB } from "./jobs/options.js";
export { supportedProviders } from "./providers/registry.js";
export type { RetryListener, RetryNotice } from "./providers/shared/retry-notice.js";
export type { ProviderConfig } from "./providers/types.js";
export * from "./types.js";
export type { JobRecord, ShardRecord, ShardState } from "./workspace/job-record.js";
