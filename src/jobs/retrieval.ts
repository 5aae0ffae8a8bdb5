import { rm } from "node:fs/promises";
import { join } from "node:path";
import { providerEntry } from "../providers/registry.js";
import type { ProviderAdapter } from "../providers/types.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { ORDER_FILE } from "./plan.js";
import type { JobHandle } from "./record.js";
import { mergeSpilledResults, type ShardSpill, spillShardResults, unorderedResults } from "./results.js";
import type { JobStore } from "./store.js";
import { checkedResults, checkOrderFile } from "./verify.js";

const RESULT_STATUSES = new Set<ResultStatus>([
  "succeeded",
  "failed",
  "cancelled",
  "expired",
  "invalid_output",
]);

function isRelayResult(value: unknown): value is BatchResult {
  const candidate = value as Partial<BatchResult> | null;
  return (
    candidate !== null &&
    typeof candidate === "object" &&
    typeof candidate.id === "string" &&
    RESULT_STATUSES.has(candidate.status as ResultStatus) &&
    "raw" in candidate
  );
}

/**
 * A finished job's results on their way from the provider into the workspace: every shard's result files
 * downloaded and spilled to disk as they arrive, then written in request order as `<job>_results.json`.
 */
export class Retrieval {
  constructor(
    private readonly job: JobHandle,
    private readonly adapter: ProviderAdapter,
  ) {}

  async fetch(): Promise<void> {
    const { record, workspace } = this.job;
    const jobDir = workspace.jobDir(record.job_id);
    if (record.submission_id === "") {
      // A job submitted by the Python Relay: no stored request list, so the provider's order is kept.
      await workspace.writeResults(record.job_id, unorderedResults(this.adapter, record.shards));
      return;
    }
    await checkOrderFile(join(jobDir, ORDER_FILE), record);
    const spills: ShardSpill[] = [];
    try {
      for (const shard of record.shards) {
        const spill = await spillShardResults({ adapter: this.adapter, shard, jobDir });
        spills.push(spill);
        shard.completed_requests = spill.succeeded;
        shard.failed_requests = shard.n_requests - spill.succeeded;
      }
      await workspace.writeResults(record.job_id, mergeSpilledResults(jobDir, spills));
    } finally {
      for (const spill of spills) await rm(spill.path, { force: true });
    }
    await this.job.save();
  }
}

/**
 * A job's stored results, in order, checked against the job as they stream: one per request, in request order,
 * with the job's IDs (see verify.ts); those of a Python Relay workspace (raw provider records) are normalised.
 */
export async function* readStoredResults(store: JobStore, jobId: string): AsyncGenerator<BatchResult> {
  const record = await store.load(jobId);
  const stored = readResultsFile(store, jobId);
  if (!record) {
    yield* stored;
    return;
  }
  const { workspace } = store;
  yield* checkedResults(stored, {
    record,
    jobDir: workspace.jobDir(jobId),
    resultsPath: workspace.resultsPath(jobId),
  });
}

async function* readResultsFile(store: JobStore, jobId: string): AsyncGenerator<BatchResult> {
  let parseRecord: ((raw: unknown) => BatchResult | null) | undefined;
  for await (const element of store.workspace.readResults(jobId)) {
    if (isRelayResult(element)) {
      yield element;
      continue;
    }
    if (!parseRecord) {
      const entry = providerEntry((await store.load(jobId))?.provider);
      parseRecord = (raw) => {
        const parsed = entry.parseRecord(raw);
        return parsed ? { id: parsed.customId, ...parsed.result } : null;
      };
    }
    const parsed = parseRecord(element);
    if (parsed) yield parsed;
  }
}
