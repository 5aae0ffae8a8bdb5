import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ParsedResult, ProviderAdapter } from "../providers/types.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { LineWriter } from "../util/line-writer.js";
import { readLines } from "../util/lines.js";
import { writeStreamAtomic } from "../workspace/atomic.js";
import type { ShardRecord } from "../workspace/job-record.js";
import { ORDER_FILE, shardIdsFile, shardResultsFile, shardSpillFile } from "./plan.js";

/** The result Relay records for a request the provider returned nothing for, by what happened to its batch. */
export function missingResult(id: string, shard: ShardRecord): BatchResult {
  const byStatus: Partial<Record<string, { status: ResultStatus; code: string; message: string }>> = {
    expired: {
      status: "expired",
      code: "batch_expired",
      message: "The batch expired before this request ran.",
    },
    cancelled: {
      status: "cancelled",
      code: "batch_cancelled",
      message: "The batch was cancelled before this request ran.",
    },
    failed: {
      status: "failed",
      code: shard.error?.code ?? "batch_failed",
      message: shard.error?.message ?? "The batch failed before this request ran.",
    },
  };
  const outcome = byStatus[shard.status] ?? {
    status: "failed" as const,
    code: "missing_result",
    message: "The provider returned no result for this request.",
  };
  return { id, status: outcome.status, error: { code: outcome.code, message: outcome.message }, raw: null };
}

function toResult(parsed: ParsedResult): BatchResult {
  return { id: parsed.customId, ...parsed.result };
}

/**
 * Downloads one shard's results and writes them, one JSON line per request in the order the requests were given,
 * to the shard's results file. The provider's order is arbitrary, so results are placed by custom_id; a request with
 * no record gets one that says why (expired, cancelled, failed).
 *
 * Results are spilled to disk as they arrive, with their place noted in typed arrays, then written out in order
 * from one buffer: the heap holds no per-result objects for longer than a line takes, so memory does not grow
 * with the job and the garbage collector has little to keep.
 */
export async function collectShardResults(options: {
  adapter: ProviderAdapter;
  shard: ShardRecord;
  jobDir: string;
}): Promise<{ succeeded: number; unsuccessful: number }> {
  const { adapter, shard, jobDir } = options;
  const ids: string[] = [];
  for await (const id of readLines(join(jobDir, shardIdsFile(shard.index)))) ids.push(id);
  const positions = new Map<string, number>(ids.map((id, position) => [id, position]));
  const offsets = new Float64Array(ids.length).fill(-1);
  const lengths = new Uint32Array(ids.length);
  const succeededAt = new Uint8Array(ids.length);
  const spillPath = join(jobDir, shardSpillFile(shard.index));

  try {
    let spilled = 0;
    const spill = new LineWriter(spillPath);
    try {
      if (shard.provider_batch_id) {
        const batch = await adapter.getBatch(shard.provider_batch_id);
        for await (const parsed of adapter.readResults(batch)) {
          const position = positions.get(parsed.customId);
          // Unknown IDs cannot belong to this shard; a repeated ID keeps its first record.
          if (position === undefined || (offsets[position] as number) >= 0) continue;
          const line = JSON.stringify(toResult(parsed));
          const bytes = Buffer.byteLength(line);
          offsets[position] = spilled;
          lengths[position] = bytes;
          spilled += bytes + 1;
          if (parsed.result.status === "succeeded") succeededAt[position] = 1;
          await spill.write(line);
        }
      }
    } finally {
      await spill.close();
    }

    const spilledResults = spilled > 0 ? await readFile(spillPath) : Buffer.alloc(0);
    let succeeded = 0;
    let unsuccessful = 0;
    await writeStreamAtomic(join(jobDir, shardResultsFile(shard.index)), async (write) => {
      const chunk = new ChunkBuilder(write);
      for (let position = 0; position < ids.length; position += 1) {
        const offset = offsets[position] as number;
        if (offset >= 0)
          chunk.add(spilledResults.subarray(offset, offset + (lengths[position] as number) + 1));
        else chunk.add(Buffer.from(`${JSON.stringify(missingResult(ids[position] as string, shard))}\n`));
        if (succeededAt[position] === 1) succeeded += 1;
        else unsuccessful += 1;
        await chunk.flushIfFull();
      }
      await chunk.flush();
    });
    return { succeeded, unsuccessful };
  } finally {
    await rm(spillPath, { force: true });
  }
}

/** Gathers small buffers into writes of about 256 KB. */
class ChunkBuilder {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly write: (chunk: Buffer) => Promise<void>) {}

  add(part: Buffer): void {
    this.parts.push(part);
    this.size += part.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.size >= 256 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    await this.write(chunk);
  }
}

/** The job's results in request order, merged from the per-shard files as serialised JSON, streamed. */
export async function* mergeShardResults(jobDir: string, shardCount: number): AsyncGenerator<string> {
  const readers = Array.from({ length: shardCount }, (_, index) =>
    readLines(join(jobDir, shardResultsFile(index)))[Symbol.asyncIterator](),
  );
  try {
    for await (const line of readLines(join(jobDir, ORDER_FILE))) {
      if (line === "") continue;
      const reader = readers[Number(line)];
      const next = reader ? await reader.next() : undefined;
      if (!next || next.done) throw new Error(`the results of shard ${line} ended early`);
      yield next.value;
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.return?.(undefined)));
  }
}

/** Results in the provider's own order, for jobs that have no stored request list (written by the Python Relay). */
export async function* unorderedResults(
  adapter: ProviderAdapter,
  shards: readonly ShardRecord[],
): AsyncGenerator<string> {
  for (const shard of shards) {
    if (!shard.provider_batch_id) continue;
    const batch = await adapter.getBatch(shard.provider_batch_id);
    for await (const parsed of adapter.readResults(batch)) yield JSON.stringify(toResult(parsed));
  }
}
