import type { ShardTags } from "../../types.js";

/** Metadata keys that tie a provider batch to the Relay job and shard that created it. */
export function metadataFor(tags: ShardTags): Record<string, string> {
  return {
    relay_job_id: tags.jobId,
    relay_shard: String(tags.shardIndex),
    relay_submission: tags.submissionId,
    relay_attempt: String(tags.attempt),
  };
}

/** Whether a batch's metadata names this shard's submission and attempt (the job ID is implied by the submission). */
export function matchesTags(metadata: unknown, tags: ShardTags): boolean {
  const values = (metadata ?? {}) as Record<string, unknown>;
  return (
    values.relay_submission === tags.submissionId &&
    values.relay_shard === String(tags.shardIndex) &&
    values.relay_attempt === String(tags.attempt)
  );
}
