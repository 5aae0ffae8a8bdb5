import { isFinished } from "../../types.js";
import { asObject, asString, type JsonObject } from "../shared/json.js";
import type { JsonPath } from "../shared/json-stream.js";
import type { ProviderBatch } from "../types.js";
import { statusError } from "./decode.js";
import { normaliseGeminiState } from "./status.js";

/**
 * Where an Operation holds many requests or responses: inlined responses (in `metadata.output` and again in
 * `response`) and, should the API echo them, inlined requests. Reading a batch's status skips them.
 */
export const INLINED_RESPONSES: readonly JsonPath[] = [
  ["metadata", "output", "inlinedResponses", "inlinedResponses"],
  ["response", "inlinedResponses", "inlinedResponses"],
  ["metadata", "output", "inlinedEmbedContentResponses", "inlinedResponses"],
  ["response", "inlinedEmbedContentResponses", "inlinedResponses"],
];
export const BULKY_ARRAYS: readonly JsonPath[] = [
  ...INLINED_RESPONSES,
  ["metadata", "inputConfig", "requests", "requests"],
];

/** int64 fields arrive as strings, and proto3 JSON leaves out the ones that are zero. */
function int64(value: unknown): number {
  const number = typeof value === "string" ? Number(value) : typeof value === "number" ? value : 0;
  return Number.isFinite(number) ? number : 0;
}

/** The responses file of a finished batch: in `metadata.output` (which the SDK reads) or in `response`. */
export function responsesFileOf(operation: JsonObject): string | null {
  const metadata = asObject(operation.metadata);
  return (
    asString(asObject(metadata?.output)?.responsesFile) ??
    asString(asObject(operation.response)?.responsesFile) ??
    null
  );
}

/**
 * A batch Operation (`{name, metadata: GenerateContentBatch, done, response | error}`) as Relay sees it.
 * `raw` keeps the operation as read, without any inlined responses (those are read with the results).
 */
export function toProviderBatch(operation: JsonObject): ProviderBatch {
  const metadata = asObject(operation.metadata) ?? {};
  const providerStatus = asString(metadata.state) ?? "BATCH_STATE_UNSPECIFIED";
  const status = normaliseGeminiState(providerStatus);
  const stats = asObject(metadata.batchStats) ?? {};
  const createdAt = Date.parse(asString(metadata.createTime) ?? "");
  return {
    id: asString(operation.name) ?? "",
    status,
    providerStatus,
    total: int64(stats.requestCount),
    completed: int64(stats.successfulRequestCount),
    failed: int64(stats.failedRequestCount),
    inputFileId: asString(asObject(metadata.inputConfig)?.fileName) ?? null,
    outputFileId: responsesFileOf(operation),
    errorFileId: null,
    error: status === "failed" ? batchError(operation.error) : null,
    progress: null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    resultsExpireAt: resultsExpireAt(status, asString(metadata.endTime)),
    raw: operation,
  };
}

/** "Batch job results are stored and available for download for 6 weeks" (from the batch's end, assumed). */
const RESULTS_KEPT_MS = 42 * 24 * 60 * 60_000;

function resultsExpireAt(status: ProviderBatch["status"], endTime: string | undefined): number | null {
  const endedAt = Date.parse(endTime ?? "");
  return status === "completed" || status === "cancelled"
    ? Number.isNaN(endedAt)
      ? null
      : endedAt + RESULTS_KEPT_MS
    : null;
}

function batchError(error: unknown): { code?: string; message: string } {
  return error === undefined ? { message: "the batch failed" } : statusError(error);
}

/** Whether the batch has ended by its state (an Operation's `done` is left out while false). */
export function hasEnded(batch: ProviderBatch): boolean {
  return isFinished(batch.status);
}
