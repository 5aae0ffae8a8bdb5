import type { ShardTags } from "../types.js";

/**
 * The name a shard's input file is uploaded under: it says which job, shard and submission it belongs to, for
 * anyone looking at the account's files (Together batches take no metadata).
 */
export function uploadFileName(tags: ShardTags): string {
  return `relay_${tags.jobId}_shard${tags.shardIndex}_${tags.submissionId}.jsonl`;
}
