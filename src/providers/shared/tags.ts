import type { ShardTags } from "../types.js";

/**
 * Batch metadata that ties a provider batch to the Relay job and shard that created it, for providers whose batches
 * take string metadata: a crashed or lost submission finds its batch again by these.
 */
export function metadataFor(tags: ShardTags): Record<string, string> {
  return {
    relay_job_id: tags.jobId,
    relay_shard: String(tags.shardIndex),
    relay_submission: tags.submissionId,
    relay_attempt: String(tags.attempt),
  };
}

/** Whether a batch's metadata carries these tags (the submission, shard and attempt identify it). */
export function matchesTags(metadata: unknown, tags: ShardTags): boolean {
  const values = (metadata ?? {}) as Record<string, unknown>;
  return (
    values.relay_submission === tags.submissionId &&
    values.relay_shard === String(tags.shardIndex) &&
    values.relay_attempt === String(tags.attempt)
  );
}
