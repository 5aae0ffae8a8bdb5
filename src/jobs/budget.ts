import { isFinished } from "../types.js";
import type { JobRecord, ShardRecord } from "../workspace/job-record.js";

/** The enqueued-token budget for a model (null: a shard without one model), or undefined for no budget. */
export type TokenBudget = (model: string | null) => number | undefined;

export function tokenBudget(config: number | Record<string, number> | undefined): TokenBudget | undefined {
  if (config === undefined) return undefined;
  if (typeof config === "number") return () => config;
  return (model) => (model !== null ? config[model] : undefined) ?? config["*"];
}

const keyOf = (model: string | null) => model ?? "*";

/** Estimated tokens of the provider's batches that are running now, per model, over the given job records. */
export function enqueuedTokens(records: readonly JobRecord[], provider: string): Map<string, number> {
  const enqueued = new Map<string, number>();
  for (const record of records) {
    if (record.provider !== provider) continue;
    for (const shard of record.shards) {
      if ((shard.state !== "created" && shard.state !== "adding") || isFinished(shard.status)) continue;
      const key = keyOf(shard.model);
      enqueued.set(key, (enqueued.get(key) ?? 0) + (shard.estimated_tokens ?? 0));
    }
  }
  return enqueued;
}

/**
 * The shards that may go to the provider now, in order: a shard whose creation or filling is under way always (it
 * may exist already); any other only while its model's running batches leave room for it, or when none is running (so that a
 * shard larger than the budget still goes, alone). The others wait for a later call.
 */
export function admitShards(
  shards: readonly ShardRecord[],
  enqueued: Map<string, number>,
  budget: TokenBudget,
): ShardRecord[] {
  const admitted: ShardRecord[] = [];
  for (const shard of shards) {
    const limit = budget(shard.model);
    const key = keyOf(shard.model);
    const running = enqueued.get(key) ?? 0;
    if (
      shard.state === "creating" ||
      shard.state === "adding" ||
      limit === undefined ||
      running === 0 ||
      running + shard.estimated_tokens <= limit
    ) {
      admitted.push(shard);
      enqueued.set(key, running + shard.estimated_tokens);
    }
  }
  return admitted;
}
