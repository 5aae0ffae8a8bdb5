import { asObject, asString, type JsonObject } from "../shared/json.js";
import type { ProviderBatch, ShardTags } from "../types.js";
import { countsOf, normaliseXaiStatus, xaiBatchState } from "./status.js";

/**
 * The batch `name` Relay creates a shard's batch under. xAI batches carry no metadata, so the name is the tag that
 * finds the batch again after a lost create answer: it names the job, the shard, the submission and the attempt.
 * Job IDs cannot hold "/", so the name reads back unambiguously.
 */
export function batchName(tags: ShardTags): string {
  return `relay/${tags.jobId}/shard-${tags.shardIndex}/${tags.submissionId}/attempt-${tags.attempt}`;
}

export function createdAtOf(batch: unknown): number {
  return Date.parse(asString(asObject(batch)?.create_time) ?? "");
}

/** A Batch object as Relay sees it at `now` (the provider's clock); `raw` keeps the object unchanged. */
export function toProviderBatch(batch: JsonObject, now: number): ProviderBatch {
  const providerStatus = xaiBatchState(batch, now);
  const counts = countsOf(batch);
  const createdAt = createdAtOf(batch);
  const byXai = asString(batch.cancel_by_xai_message);
  return {
    id: asString(batch.batch_id) ?? "",
    status: normaliseXaiStatus(providerStatus),
    providerStatus,
    total: counts?.total ?? 0,
    completed: counts?.succeeded ?? 0,
    failed: (counts?.errored ?? 0) + (counts?.cancelled ?? 0),
    inputFileId: asString(batch.input_file_id) ?? null,
    outputFileId: null,
    errorFileId: null,
    error: byXai ? { code: "cancelled_by_xai", message: byXai } : null,
    progress: null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    raw: batch,
  };
}
