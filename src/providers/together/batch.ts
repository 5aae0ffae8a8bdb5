import { isFinished, type JobStatus } from "../../types.js";
import { asNumber, asString, type JsonObject } from "../shared/json.js";
import type { ProviderBatch } from "../types.js";
import { normaliseTogetherStatus } from "./status.js";

export function jobStatusOf(job: JsonObject): { status: JobStatus; providerStatus: string } {
  const providerStatus = asString(job.status) ?? "UNKNOWN";
  return { status: normaliseTogetherStatus(providerStatus), providerStatus };
}

/**
 * A Together BatchJob as Relay sees it; `raw` keeps the object unchanged. Together reports `progress` (0–100), not
 * request counts: Relay derives them from it and the shard's request count (see ProviderBatch.progress), with
 * `failures` read from the error file once the batch has ended.
 */
export function toProviderBatch(job: JsonObject, failures = 0): ProviderBatch {
  const { status, providerStatus } = jobStatusOf(job);
  const createdAt = Date.parse(asString(job.created_at) ?? "");
  const message = asString(job.error);
  return {
    id: asString(job.id) ?? "",
    status,
    providerStatus,
    total: 0,
    completed: 0,
    failed: failures,
    progress: status === "completed" ? 1 : Math.min(100, Math.max(0, asNumber(job.progress) ?? 0)) / 100,
    inputFileId: asString(job.input_file_id) ?? null,
    outputFileId: asString(job.output_file_id) || null,
    errorFileId: asString(job.error_file_id) || null,
    error: status === "failed" ? batchError(message) : null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    raw: job,
  };
}

export function hasEnded(job: JsonObject): boolean {
  return isFinished(jobStatusOf(job).status);
}

/**
 * Together reports a failed batch with a bare message. One that names the enqueued-token queue is given the code
 * Relay requeues on; the wording is UNVERIFIED, so only that word is trusted (a "max_tokens exceeds the limit"
 * failure must not be retried).
 */
function batchError(message: string | undefined): { code?: string; message: string } {
  if (!message) return { message: "the batch failed" };
  return /enqueued/i.test(message) ? { code: "token_limit_exceeded", message } : { message };
}
