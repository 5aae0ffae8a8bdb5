export { RelayClient, type RelayClientOptions, type SubmitBatchOptions, type WaitOptions } from "./client.js";
export * from "./errors.js";
export { readRequestsFile } from "./input/jsonl.js";
export { supportedProviders } from "./providers/registry.js";
export type { ProviderConfig } from "./providers/types.js";
export * from "./types.js";
export type { JobRecord, ShardRecord, ShardState } from "./workspace/job-record.js";
