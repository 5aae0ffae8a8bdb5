import type { PROVIDER_ENTRIES } from "./providers/index.js";

/** Providers Relay can send batches to (one per entry in providers/index.ts). */
export type ProviderName = (typeof PROVIDER_ENTRIES)[number]["name"];

/** One message of a multi-turn conversation. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One prompt to run. `id` becomes the provider's `custom_id` and must be unique within a job. */
export interface BatchRequest {
  id: string;
  model: string;
  /** The user prompt. Required unless `messages` is given. */
  prompt?: string;
  systemPrompt?: string;
  /** Multi-turn input; when given, `prompt` is appended as a final user turn if also present. */
  messages?: ChatMessage[];
  maxTokens?: number;
  /** Provider-native request fields, merged into the request body after the ones Relay sets. */
  providerArgs?: Record<string, unknown>;
}

/** Normalised job status. `finalizing` at the provider is still `in_progress` here. */
export type JobStatus =
  | "pending"
  | "in_progress"
  | "completed"
  | "failed"
  | "expired"
  | "cancelling"
  | "cancelled";

export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set([
  "completed",
  "failed",
  "expired",
  "cancelled",
]);

export function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.has(status);
}

export type ResultStatus = "succeeded" | "failed" | "cancelled" | "expired";

export interface Usage {
  /** Every prompt token, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** How many of inputTokens were read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** How many of inputTokens were written to the provider's prompt cache (Anthropic bills them apart). */
  cacheWriteInputTokens?: number;
  /** How many of outputTokens were spent on reasoning. */
  reasoningTokens?: number;
}

/** Normalised finish reasons; the provider's own value is in `raw`. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "other";

/** One result per request, always, in the order the requests were given. */
export interface BatchResult {
  id: string;
  status: ResultStatus;
  text?: string;
  usage?: Usage;
  finishReason?: FinishReason;
  error?: { code?: string; message: string };
  /** The model that answered, as the provider named it (for pricing). */
  model?: string;
  /** In merged results of a retry chain: the job this result came from, and its place in the chain (0: the first). */
  attempt?: { jobId: string; number: number };
  /** The provider's own record, unchanged (null when the provider returned nothing for this request). */
  raw: unknown;
}

/** What `submitBatch` and `monitorBatch` return. */
export interface BatchJob {
  jobId: string;
  provider: ProviderName;
  submittedAt: string;
  status: JobStatus;
  /** The provider's own status (for jobs over several batches: each distinct status, comma-separated). */
  providerStatus: string;
  nRequests: number;
  completedRequests: number;
  failedRequests: number;
  description: string;
  /** Provider batch IDs, one per shard, in shard order (null where a shard is not created yet). */
  providerBatchIds: (string | null)[];
}
