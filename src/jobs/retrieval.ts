import { join } from "node:path";
import { providerEntry } from "../providers/registry.js";
import type { ProviderAdapter } from "../providers/types.js";
import { type BatchResult, RESULT_STATUSES, type ResultStatus } from "../types.js";
import { breather } from "../util/breathe.js";
import type { ShardRecord } from "../workspace/job-record.js";
import type { ResultsWriter } from "../workspace/workspace.js";
import { ShardDownloads } from "./downloads.js";
import { ORDER_FILE } from "./plan.js";
import type { JobHandle } from "./record.js";
import { type ShardSpill, serialiseResult, spillShardResults, unorderedResults } from "./results.js";
import type { JobStore } from "./store.js";
import { checkedResults, checkOrderFile, requestOrder } from "./verify.js";

const KNOWN_STATUSES: ReadonlySet<string> = new Set<ResultStatus>(RESULT_STATUSES);

function isRelayResult(value: unknown): value is BatchResult {
  const candidate = value as Partial<BatchResult> | null;
  return (
    candidate !== null &&
    typeof candidate === "object" &&
    typeof candidate.id === "string" &&
    KNOWN_STATUSES.has(candidate.status as ResultStatus) &&
    "raw" in candidate
  );
}

/**
 * How many shards' results are downloaded at once, and how many are held at most (downloading, or waiting to be
 * merged): each download holds its shard's IDs (a few MB at 50,000 requests), each shard held up to 55 MB of spill on
 * disk. Two downloads keep a provider's files coming while the merge works through the first.
 */
const DOWNLOADS = { running: 2, held: 4 };

/**
 * A finished job's results on their way from the provider into the workspace, in one pass: every shard's result
 * files are downloaded (a few shards at once) and spilled to disk as they arrive, each result parsed, normalised
 * and checked once; they are then merged in request order into `<job>_results.json` and handed out at the same
 * time, so that nothing is read back. The file is published (fsynced, then renamed into place) only once every
 * result is in it: stopping early, or any failure, leaves the stored results as they were.
 */
export class Retrieval {
  constructor(
    private readonly job: JobHandle,
    private readonly adapter: ProviderAdapter,
    private readonly downloads = DOWNLOADS,
  ) {}

  /** Fetches the results into the workspace without handing them out. */
  async fetch(): Promise<void> {
    for await (const _ of this.stream()) {
      // stored as they pass
    }
  }

  /** Fetches the results into the workspace, yielding each as it is stored, in request order. */
  async *stream(): AsyncGenerator<BatchResult> {
    const { record, workspace } = this.job;
    const writer = await workspace.openResults(record.job_id);
    let published = false;
    try {
      if (record.submission_id === "") {
        // A job submitted by the Python Relay: no stored request list, so the provider's order is kept.
        for await (const result of unorderedResults(this.adapter, record.shards)) {
          const line = serialiseResult(result);
          writer.append(line);
          yield JSON.parse(line) as BatchResult;
        }
        await writer.publish();
        published = true;
        return;
      }
      yield* this.merged(writer);
      await writer.publish();
      published = true;
    } finally {
      if (!published) await writer.discard();
    }
    await this.job.save();
  }

  /** Every shard's results in request order (order.txt names the shard of each request), appended to `writer`. */
  private async *merged(writer: ResultsWriter): AsyncGenerator<BatchResult> {
    const { record, workspace } = this.job;
    const jobDir = workspace.jobDir(record.job_id);
    const orderPath = join(jobDir, ORDER_FILE);
    await checkOrderFile(orderPath, record);
    let stopping = false;
    const downloads = new ShardDownloads(record.shards.length, this.downloads, (index) =>
      spillShardResults({
        adapter: this.adapter,
        shard: record.shards[index] as ShardRecord,
        jobDir,
        stopped: () => stopping,
      }),
    );
    const spills: (ShardSpill | undefined)[] = [];
    const taken = new Uint32Array(record.shards.length);
    // Downloads go on while results are merged.
    const breathe = breather();
    downloads.start();
    try {
      for await (const index of requestOrder(orderPath, record)) {
        if (downloads.failed !== undefined) throw downloads.failed;
        let spill = spills[index];
        if (!spill) {
          spill = await downloads.get(index);
          spills[index] = spill;
        }
        const position = taken[index] as number;
        taken[index] = position + 1;
        if (!spill.has(position)) await spill.waitFor(position);
        const line = spill.take(position);
        const result = JSON.parse(line.toString("utf8")) as BatchResult;
        writer.append(line);
        if (position + 1 === spill.nRequests) {
          await spill.finished;
          const shard = record.shards[index] as ShardRecord;
          shard.completed_requests = spill.succeeded;
          shard.failed_requests = shard.n_requests - spill.succeeded;
          await spill.remove();
          downloads.release(index);
        }
        yield result;
        await breathe();
      }
    } finally {
      stopping = true;
      for (const download of await downloads.stop()) {
        if (download.status !== "fulfilled") continue;
        await download.value.finished.catch(() => {});
        await download.value.remove();
      }
    }
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
