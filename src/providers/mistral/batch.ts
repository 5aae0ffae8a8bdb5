import { asArray, asNumber, asObject, asString, type JsonObject } from "../shared/json.js";
import type { ProviderBatch } from "../types.js";
import { normaliseMistralStatus } from "./status.js";

/** `created_at` in unix milliseconds, NaN when absent. */
export function createdAtOf(job: JsonObject): number {
  const seconds = asNumber(job.created_at);
  return seconds === undefined ? Number.NaN : seconds * 1000;
}

/** Why a FAILED job failed: its `errors` list of `{message, count}`. */
function batchError(job: JsonObject): { message: string } {
  const messages = asArray(job.errors).flatMap((entry) => {
    const error = asObject(entry);
    const message = asString(error?.message);
    if (!message) return [];
    const count = asNumber(error?.count) ?? 1;
    return [count > 1 ? `${message} (${count} times)` : message];
  });
  return { message: messages.join("; ") || "the batch job failed" };
}

/** A Mistral BatchJob as Relay sees it; `raw` keeps the object unchanged. */
export function toProviderBatch(job: JsonObject): ProviderBatch {
  const providerStatus = asString(job.status) ?? "UNKNOWN";
  const status = normaliseMistralStatus(providerStatus);
  const createdAt = createdAtOf(job);
  return {
    id: asString(job.id) ?? "",
    status,
    providerStatus,
    total: asNumber(job.total_requests) ?? 0,
    completed: asNumber(job.succeeded_requests) ?? 0,
    failed: asNumber(job.failed_requests) ?? 0,
    inputFileId: asString(asArray(job.input_files)[0]) ?? null,
    outputFileId: asString(job.output_file) || null,
    errorFileId: asString(job.error_file) || null,
    error: status === "failed" ? batchError(job) : null,
    progress: null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    raw: job,
  };
}
