import type { JobStatus, ProviderName, RequestKind } from "../types.js";

export const RECORD_FORMAT = 1;

/**
 * How far the submission of one shard got; written before and after every provider call. "adding": the batch exists
 * and is being filled (providers whose batches are created empty); `requests_added` says how far.
 */
export type ShardState = "planned" | "uploaded" | "creating" | "adding" | "created" | "create_failed";

/** One provider batch of a job. */
export interface ShardRecord {
  index: number;
  model: string | null;
  n_requests: number;
  bytes: number;
  /** Estimated prompt tokens, counted against an enqueued-token budget while the batch runs. */
  estimated_tokens: number;
  state: ShardState;
  input_file_id: string | null;
  provider_batch_id: string | null;
  status: JobStatus;
  provider_status: string | null;
  completed_requests: number;
  failed_requests: number;
  output_file_id: string | null;
  error_file_id: string | null;
  /** Why the batch failed as a whole (validation errors, a refused creation). */
  error: { code?: string; message: string } | null;
  /** How many times the shard was submitted again after its batch was refused for a passing reason. */
  attempt: number;
  /** Batches of earlier attempts, which failed without running (e.g. token_limit_exceeded). */
  previous_batch_ids: string[];
  /**
   * Providers whose batches are filled after creation: how many of the shard's first requests the batch is known to
   * hold. Absent for the other providers.
   */
  requests_added?: number;
  /** Why the requests from `requests_added` on were never added (the provider refused them); absent otherwise. */
  add_error?: { code?: string; message: string } | null;
  /** Not to be submitted again before this time (ISO-8601), or null. */
  retry_at: string | null;
  /** When the provider stops serving this batch's results (ISO-8601), when it says or documents it; else null. */
  results_expire_at?: string | null;
  /** When Relay deleted the batch's files at the provider (client.cleanup), or null. */
  cleaned_at?: string | null;
  updated_at: string;
}

/**
 * The job record stored as `<job_id>.json`. The first nine keys are the Python Relay's, in its order;
 * the rest are Relay's own. Timestamps are ISO-8601 UTC.
 */
export interface JobRecord {
  job_id: string;
  /** The first shard's batch ID, for tools that know one batch per job; `shards` lists them all. */
  provider_job_id: string | null;
  provider: ProviderName;
  submitted_at: string;
  /** Normalised status (see JobStatus). */
  status: JobStatus;
  n_requests: number;
  completed_requests: number;
  failed_requests: number;
  description: string;
  relay_format: number;
  provider_status: string;
  /** A random tag put on every provider batch of this submission, to find them again after a crash. */
  submission_id: string;
  /** SHA-256 of the encoded requests and their shards: submitting the same requests again resumes the job. */
  requests_digest: string;
  endpoint: string | null;
  /** What the requests are: "chat" (also when absent, in older records) or "embeddings". */
  kind?: RequestKind;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** A follow-up job made by retryFailed: the job whose requests it runs again (absent or null otherwise). */
  parent_job_id?: string | null;
  /** The follow-up jobs retryFailed made from this one, oldest first. */
  retry_job_ids?: string[];
  /** The cost estimated when the job was planned (approximate token counts). */
  estimated_cost?: StoredCostEstimate | null;
  shards: ShardRecord[];
}

/** A cost estimate as kept in a job record. */
export interface StoredCostEstimate {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  unknown_models: string[];
  prices_as_of: string;
}

/** A shard record as it starts: nothing sent yet. Give the fields that differ. */
export function newShardRecord(
  fields: Pick<ShardRecord, "index" | "model" | "n_requests" | "bytes" | "estimated_tokens" | "updated_at"> &
    Partial<ShardRecord>,
): ShardRecord {
  return {
    state: "planned",
    input_file_id: null,
    provider_batch_id: null,
    status: "pending",
    provider_status: null,
    completed_requests: 0,
    failed_requests: 0,
    output_file_id: null,
    error_file_id: null,
    error: null,
    attempt: 0,
    previous_batch_ids: [],
    retry_at: null,
    ...fields,
  };
}

export function nowIso(): string {
  return new Date().toISOString();
}
