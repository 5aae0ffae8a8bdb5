import type { ProviderBatch } from "../../types.js";
import { asArray, asNumber, asObject, asString, type JsonObject } from "../json.js";
import { normaliseOpenAIStatus } from "./status.js";

/**
 * A timestamp of a batch object in unix ms. OpenAI and Groq send unix seconds; Azure's v1 API sends ISO strings
 * (7 fractional digits, `+00:00`). NaN when absent or unreadable.
 */
export function timestampMs(value: unknown): number {
  const seconds = asNumber(value);
  if (seconds !== undefined) return seconds * 1000;
  const text = asString(value);
  return text ? Date.parse(text) : Number.NaN;
}

/** The batch's failure, from `errors.data` (reported only when the batch as a whole failed). */
function batchError(batch: JsonObject): ProviderBatch["error"] {
  const entries = asArray(asObject(batch.errors)?.data).map(asObject);
  const first = entries[0];
  const code = asString(first?.code);
  const message = entries
    .map((entry) => {
      const text = asString(entry?.message) ?? asString(entry?.code) ?? "";
      const line = asNumber(entry?.line);
      return line === undefined ? text : `${text} (line ${line})`;
    })
    .filter((text) => text !== "")
    .join("; ");
  return { ...(code ? { code } : {}), message: message || "the batch failed" };
}

/**
 * A batch object of the OpenAI protocol as Relay sees it, read tolerantly: Azure capitalises statuses, sends null
 * counts and empty-string file IDs while validating; `raw` keeps the object unchanged.
 */
export function toProviderBatch(batch: JsonObject): ProviderBatch {
  const providerStatus = asString(batch.status) ?? "unknown";
  const status = normaliseOpenAIStatus(providerStatus);
  const counts = asObject(batch.request_counts);
  const createdAt = timestampMs(batch.created_at);
  return {
    id: asString(batch.id) ?? "",
    status,
    providerStatus,
    total: asNumber(counts?.total) ?? 0,
    completed: asNumber(counts?.completed) ?? 0,
    failed: asNumber(counts?.failed) ?? 0,
    inputFileId: asString(batch.input_file_id) || null,
    outputFileId: asString(batch.output_file_id) || null,
    errorFileId: asString(batch.error_file_id) || null,
    error: status === "failed" ? batchError(batch) : null,
    progress: null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    resultsExpireAt: resultsExpireAt(batch),
    raw: batch,
  };
}

/**
 * Output and error files are deleted 30 days after they are made (when the batch ended), unless the batch was
 * created with `output_expires_after` (OpenAI documents it; Groq's and Azure's keeping time is assumed the same).
 */
const OUTPUT_KEPT_MS = 30 * 24 * 3600_000;

function resultsExpireAt(batch: JsonObject): number | null {
  if (!(asString(batch.output_file_id) || asString(batch.error_file_id))) return null;
  const endedAt = [batch.completed_at, batch.expired_at, batch.cancelled_at]
    .map(timestampMs)
    .find((at) => !Number.isNaN(at));
  if (endedAt === undefined) return null;
  const keptSeconds = asNumber(asObject(batch.output_expires_after)?.seconds);
  return endedAt + (keptSeconds === undefined ? OUTPUT_KEPT_MS : keptSeconds * 1000);
}
