import type { ShardTags } from "../types.js";

/** Kept short: Gemini documents no length limit for a batch's display name. */
const MAX_DISPLAY_NAME = 128;

/** What identifies the shard's batch: submission, shard and attempt; the job ID after it is for people. */
function identity(tags: ShardTags): string {
  return `relay/${tags.submissionId}/${tags.shardIndex}/${tags.attempt}/`;
}

/**
 * The display name a shard's batch is created with. Gemini batches carry no metadata, and creation is not
 * idempotent, so the name is how a batch whose create answer was lost is found again.
 */
export function displayNameFor(tags: ShardTags): string {
  return `${identity(tags)}${tags.jobId}`.slice(0, MAX_DISPLAY_NAME);
}

export function isNamedFor(displayName: unknown, tags: ShardTags): boolean {
  return typeof displayName === "string" && displayName.startsWith(identity(tags));
}
