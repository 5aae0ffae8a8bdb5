import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CorruptWorkspaceError } from "../errors.js";
import type { ParsedResult, ProviderAdapter, ProviderBatch } from "../providers/types.js";
import type { ResolvedFormat } from "../requests/format.js";
import { OutputChecker } from "../requests/output.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { LineWriter } from "../util/line-writer.js";
import { readLines } from "../util/lines.js";
import type { ShardRecord } from "../workspace/job-record.js";
import { FORMATS_FILE, ORDER_FILE, shardFormatsFile, shardIdsFile, shardSpillFile } from "./plan.js";

/**
 * The result Relay records for a request the provider returned nothing for, by what happened to its batch; a request
 * the provider refused to add to its batch (at `position` in the shard) gets the refusal.
 */
export function missingResult(id: string, shard: ShardRecord, position = 0): BatchResult {
  if (shard.add_error && position >= (shard.requests_added ?? Number.POSITIVE_INFINITY)) {
    return {
      id,
      status: "failed",
      error: { code: "not_added", message: shard.add_error.message },
      raw: null,
    };
  }
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

/** A ProviderBatch from what the job record already knows, so that fetching results costs no status call. */
export function batchFromShard(shard: ShardRecord): ProviderBatch {
  return {
    id: shard.provider_batch_id ?? "",
    status: shard.status,
    providerStatus: shard.provider_status ?? "",
    total: shard.n_requests,
    completed: shard.completed_requests,
    failed: shard.failed_requests,
    inputFileId: shard.input_file_id,
    outputFileId: shard.output_file_id,
    errorFileId: shard.error_file_id,
    error: shard.error,
    progress: null,
    createdAt: null,
    raw: null,
  };
}

/** The structured-output format of each request of a shard, by its place in the shard; null when none has one. */
export async function readShardFormats(
  jobDir: string,
  shardIndex: number,
  nRequests: number,
): Promise<{ formatOf(position: number): ResolvedFormat | undefined } | null> {
  let formats: ResolvedFormat[];
  try {
    formats = JSON.parse(await readFile(join(jobDir, FORMATS_FILE), "utf8")) as ResolvedFormat[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CorruptWorkspaceError(join(jobDir, FORMATS_FILE), (error as Error).message);
  }
  const indexes = new Int32Array(nRequests).fill(-1);
  const path = join(jobDir, shardFormatsFile(shardIndex));
  let position = 0;
  try {
    for await (const line of readLines(path)) if (position < nRequests) indexes[position++] = Number(line);
  } catch (error) {
    // A shard closed before the job's first format holds none.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return { formatOf: (at) => formats[indexes[at] as number] };
}

/** Where each of a shard's results lies in its spill file, by the request's place in the shard. */
export interface ShardSpill {
  path: string;
  offsets: Float64Array;
  /** Bytes of each result line, its newline included. */
  lengths: Uint32Array;
  succeeded: number;
}

/**
 * Downloads one shard's results and spills them to disk as they arrive, noting where each request's result lies;
 * a request the provider returned nothing for gets a result that says why (expired, cancelled, failed), spilled
 * after the rest. Nothing per result stays on the heap, so memory does not grow with the job.
 */
export async function spillShardResults(options: {
  adapter: ProviderAdapter;
  shard: ShardRecord;
  jobDir: string;
}): Promise<ShardSpill> {
  const { adapter, shard, jobDir } = options;
  const ids: string[] = [];
  for await (const id of readLines(join(jobDir, shardIdsFile(shard.index)))) ids.push(id);
  const expected = await readShardFormats(jobDir, shard.index, ids.length);
  const checker = expected ? new OutputChecker() : null;
  const positions = new Map<string, number>(ids.map((id, position) => [id, position]));
  const spill: ShardSpill = {
    path: join(jobDir, shardSpillFile(shard.index)),
    offsets: new Float64Array(ids.length).fill(-1),
    lengths: new Uint32Array(ids.length),
    succeeded: 0,
  };
  const writer = new BatchedLineWriter(spill.path);
  const place = async (position: number, result: BatchResult) => {
    const line = JSON.stringify(result);
    spill.offsets[position] = writer.bytesWritten;
    spill.lengths[position] = Buffer.byteLength(line) + 1;
    if (result.status === "succeeded") spill.succeeded += 1;
    await writer.write(line);
  };
  try {
    if (shard.provider_batch_id) {
      for await (const parsed of adapter.readResults(batchFromShard(shard))) {
        const position = positions.get(parsed.customId);
        // Unknown IDs cannot belong to this shard; a repeated ID keeps its first record.
        if (position === undefined || (spill.offsets[position] as number) >= 0) continue;
        const format = expected?.formatOf(position);
        const result = toResult(parsed);
        await place(position, format && checker ? checker.check(result, format) : result);
      }
    }
    for (let position = 0; position < ids.length; position += 1) {
      if ((spill.offsets[position] as number) < 0)
        await place(position, missingResult(ids[position] as string, shard, position));
    }
    await writer.close();
  } catch (error) {
    await writer.close().catch(() => {});
    await rm(spill.path, { force: true });
    throw error;
  }
  return spill;
}

/**
 * The job's results in request order, read back from the shards' spill files by the places noted while they
 * arrived (order.txt says which shard holds each request; within a shard, requests keep their order).
 */
export async function* mergeSpilledResults(
  jobDir: string,
  spills: readonly ShardSpill[],
): AsyncGenerator<Buffer> {
  const files = spills.map((spill) => openSync(spill.path, "r"));
  const next = new Uint32Array(spills.length);
  let scratch = Buffer.allocUnsafe(64 * 1024);
  const read = (shard: number): Buffer => {
    const spill = spills[shard];
    const position = next[shard] as number;
    if (!spill || position >= spill.offsets.length)
      throw new Error(`the results of shard ${shard} ended early`);
    next[shard] = position + 1;
    const length = (spill.lengths[position] as number) - 1;
    if (length > scratch.length) scratch = Buffer.allocUnsafe(length);
    readSync(files[shard] as number, scratch, 0, length, spill.offsets[position] as number);
    return scratch.subarray(0, length);
  };
  try {
    // order.txt holds one shard number per line; parsed from raw chunks, as readline would cost more than the rest.
    let shard = -1;
    for await (const chunk of createReadStream(join(jobDir, ORDER_FILE)) as AsyncIterable<Buffer>) {
      for (const byte of chunk) {
        if (byte >= 48 && byte <= 57) shard = (shard < 0 ? 0 : shard * 10) + (byte - 48);
        else if (byte === 10 && shard >= 0) {
          yield read(shard);
          shard = -1;
        }
      }
    }
    if (shard >= 0) yield read(shard);
  } finally {
    for (const file of files) closeSync(file);
  }
}

/** Appends lines to a file in writes of about 64 KB, counting the bytes written. */
class BatchedLineWriter {
  private readonly writer: LineWriter;
  private pending: string[] = [];
  private pendingLength = 0;
  bytesWritten = 0;

  constructor(path: string) {
    this.writer = new LineWriter(path);
  }

  async write(line: string): Promise<void> {
    this.pending.push(line);
    this.pendingLength += line.length;
    this.bytesWritten += Buffer.byteLength(line) + 1;
    if (this.pendingLength >= 64 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join("\n");
    this.pending = [];
    this.pendingLength = 0;
    await this.writer.write(text);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.writer.close();
  }
}

/** Results in the provider's own order, for jobs that have no stored request list (written by the Python Relay). */
export async function* unorderedResults(
  adapter: ProviderAdapter,
  shards: readonly ShardRecord[],
): AsyncGenerator<string> {
  for (const shard of shards) {
    if (!shard.provider_batch_id) continue;
    for await (const parsed of adapter.readResults(batchFromShard(shard)))
      yield JSON.stringify(toResult(parsed));
  }
}
