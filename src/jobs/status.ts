import { isFinished, type JobStatus } from "../types.js";
import type { ShardRecord } from "../workspace/job-record.js";

/** A job's status from its shards': finished only when every shard is, and then by the worst outcome. */
export function aggregateStatus(shards: readonly Pick<ShardRecord, "status">[]): JobStatus {
  const statuses = shards.map((shard) => shard.status);
  if (statuses.length === 0) return "pending";
  if (statuses.every(isFinished)) {
    if (statuses.every((status) => status === "completed")) return "completed";
    if (statuses.includes("cancelled")) return "cancelled";
    if (statuses.includes("expired")) return "expired";
    return "failed";
  }
  if (statuses.includes("cancelling")) return "cancelling";
  if (statuses.every((status) => status === "pending")) return "pending";
  return "in_progress";
}

export function aggregateProviderStatus(
  shards: readonly Pick<ShardRecord, "provider_status" | "state">[],
): string {
  const distinct = new Set(shards.map((shard) => shard.provider_status ?? `relay:${shard.state}`));
  return [...distinct].join(",");
}
