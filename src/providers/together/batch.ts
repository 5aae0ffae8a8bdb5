import { isFinished, type JobStatus } from "../../types.js";
import { asNumber, asString, type JsonObject } from "../shared/json.js";
import type { ProviderBatch } from "../types.js";
import { normaliseTogetherStatus } from "./status.js";

export interface RequestCounts {
  total: number;
  completed: number;
  failed: number;
}

/**
 * Request counts from what Together reports: `progress` (0–100) of a batch of `total` requests, and, once the
 * batch has ended, how many records of its error file are failures.
 * - While it runs, every processed request counts as completed: which ones failed is only known at the end.
 * - Once it has ended, completed = processed − failed and failed = everything else (failed, expired, cancelled),
 *   the same split Relay records when it reads the results, so the counts do not jump at retrieval.
 * With `total` unknown (0) only the failures are known; the exact counts arrive with the results.
 */
export function deriveCounts(
  status: JobStatus,
  progress: number | undefined,
  total: number,
  failedRecords: number,
): RequestCounts {
  const fraction = status === "completed" ? 1 : Math.min(100, Math.max(0, progress ?? 0)) / 100;
  const processed = Math.round(total * fraction);
  if (!isFinished(status)) return { total, completed: processed, failed: 0 };
  const completed = Math.max(0, processed - failedRecords);
  return { total, completed, failed: total > 0 ? total - completed : failedRecords };
}

export function jobStatusOf(job: JsonObject): { status: JobStatus; providerStatus: string } {
  const providerStatus = asString(job.status) ?? "UNKNOWN";
  return { status: normaliseTogetherStatus(providerStatus), providerStatus };
}

/** A Together BatchJob as Relay sees it; `raw` keeps the object unchanged. */
export function toProviderBatch(job: JsonObject, counts: RequestCounts): ProviderBatch {
  const { status, providerStatus } = jobStatusOf(job);
  const createdAt = Date.parse(asString(job.created_at) ?? "");
  const message = asString(job.error);
  return {
    id: asString(job.id) ?? "",
    status,
    providerStatus,
    ...counts,
    inputFileId: asString(job.input_file_id) ?? null,
    outputFileId: asString(job.output_file_id) || null,
    errorFileId: asString(job.error_file_id) || null,
    error: status === "failed" ? batchError(message) : null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    raw: job,
  };
}

export function progressOf(job: JsonObject): number | undefined {
  return asNumber(job.progress);
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
