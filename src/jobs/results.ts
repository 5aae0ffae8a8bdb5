import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CorruptWorkspaceError } from "../errors.js";
import type { ParsedResult, ProviderAdapter, ProviderBatch } from "../providers/types.js";
import type { ResolvedFormat } from "../requests/format.js";
import { OutputChecker } from "../requests/output.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { fnv1a } from "../util/fnv1a.js";
import { readLines } from "../util/lines.js";
import { hasSecrets, redactSecrets } from "../util/secrets.js";
import type { ShardRecord } from "../workspace/job-record.js";
import { FORMATS_FILE, shardFormatsFile, shardIdsFile, shardSpillFile } from "./plan.js";

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

const RAW_KEY = Buffer.from(',"raw":');

/**
 * A result's stored JSON in two parts: its other fields (an object) and its raw record, which goes last.
 * `rawText` is the raw record as the provider sent it, stored as it is rather than serialised again. Every
 * configured API key is redacted from both.
 */
function resultParts(result: BatchResult, rawText?: string): { fields: string; raw: string | undefined } {
  const raw = result.raw;
  // Serialised without raw (JSON leaves out undefined properties), whatever the key order.
  (result as { raw: unknown }).raw = undefined;
  let fields: string;
  try {
    fields = JSON.stringify(result);
  } finally {
    result.raw = raw;
  }
  if (raw === undefined) return { fields: redactSecrets(fields), raw: undefined };
  // A key written with \u escapes would pass the redaction unseen: such a record is serialised again.
  const text =
    rawText === undefined || (hasSecrets() && rawText.includes("\\u")) ? JSON.stringify(raw) : rawText;
  return { fields: redactSecrets(fields), raw: redactSecrets(text) };
}

/** A result as one stored line: JSON, its raw record last (see resultParts). */
export function serialiseResult(result: BatchResult, rawText?: string): string {
  const { fields, raw } = resultParts(result, rawText);
  return raw === undefined ? fields : `${fields.slice(0, -1)},"raw":${raw}}`;
}

const BLOCK_BYTES = 64 * 1024;
const CACHED_BLOCKS = 8;
const CLOSE_LINE = Buffer.from("}\n");
const SPILL_CHUNK_BYTES = 256 * 1024;

/**
 * One shard's results on disk in the order they arrive, with where each request's result lies (by the request's
 * place in the shard). The reader takes them in request order while they still arrive: a result can be taken as
 * soon as it is placed (`waitFor`), so that merging keeps pace with a provider that lists results in order, and a
 * result the provider never sends is known once the download has ended (it is then placed, saying why). Results are
 * gathered in a 256 KB buffer; a full buffer whose results have all been taken already is never written (the spill
 * has a hole there), so a provider that lists results in request order costs almost no spill at all. What was
 * written is read back through a few cached blocks, since providers list results in runs (forwards or backwards)
 * more often than at random. Nothing per result stays on the heap but 12 bytes of place.
 */
export class ShardSpill {
  readonly offsets: Float64Array;
  /** Bytes of each result line, its newline included. */
  readonly lengths: Uint32Array;
  succeeded = 0;
  /** Settles when every request has its result in the spill (or the download failed). */
  finished: Promise<void> = Promise.resolve();
  private readonly fd: number;
  private chunk = Buffer.allocUnsafe(SPILL_CHUNK_BYTES);
  /** Where the buffer starts in the file; everything before it is final (written, or a hole never read). */
  private chunkStart = 0;
  private used = 0;
  private chunkLines = 0;
  private chunkTaken = 0;
  private ended = false;
  private failure: unknown;
  private waiting: { position: number; resume: () => void } | null = null;
  private readonly blocks = new Map<number, Buffer>();
  private scratch = Buffer.allocUnsafe(BLOCK_BYTES);
  private closed = false;

  constructor(
    readonly path: string,
    nRequests: number,
  ) {
    this.offsets = new Float64Array(nRequests).fill(-1);
    this.lengths = new Uint32Array(nRequests);
    this.fd = openSync(path, "w+", 0o600);
  }

  get nRequests(): number {
    return this.offsets.length;
  }

  has(position: number): boolean {
    return (this.offsets[position] as number) >= 0;
  }

  /** Appends the result of the request at `position` (one line: JSON with raw last, see resultParts). */
  place(position: number, result: BatchResult, rawText?: string): void {
    const { fields, raw } = resultParts(result, rawText);
    // At most 3 bytes a UTF-16 unit, and the separators.
    const most = (fields.length + (raw?.length ?? 0)) * 3 + RAW_KEY.length + 2;
    if (this.used + most > this.chunk.length) this.seal();
    if (most > this.chunk.length) this.chunk = Buffer.allocUnsafe(most);
    const start = this.used;
    if (raw === undefined) {
      this.used += this.chunk.write(fields, this.used);
      this.chunk[this.used] = 10;
      this.used += 1;
    } else {
      // The fields' closing brace is left off: raw follows.
      this.used += this.chunk.write(fields, this.used) - 1;
      this.used += RAW_KEY.copy(this.chunk, this.used);
      this.used += this.chunk.write(raw, this.used);
      this.used += CLOSE_LINE.copy(this.chunk, this.used);
    }
    this.offsets[position] = this.chunkStart + start;
    this.lengths[position] = this.used - start;
    this.chunkLines += 1;
    if (result.status === "succeeded") this.succeeded += 1;
    if (this.waiting?.position === position) this.wake();
  }

  /** Ends the buffer: written unless every result in it was taken already. */
  private seal(): void {
    if (this.used === 0) return;
    if (this.chunkTaken < this.chunkLines) {
      let written = 0;
      while (written < this.used)
        written += writeSync(this.fd, this.chunk, written, this.used - written, this.chunkStart + written);
    }
    this.chunkStart += this.used;
    this.used = 0;
    this.chunkLines = 0;
    this.chunkTaken = 0;
    if (this.chunk.length > SPILL_CHUNK_BYTES) this.chunk = Buffer.allocUnsafe(SPILL_CHUNK_BYTES);
  }

  /** The download has ended: every request has its result (or `failure` says why not). */
  end(failure?: unknown): void {
    this.ended = true;
    this.failure = failure;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resume();
  }

  /** Waits until the request at `position` has its result; throws the download's failure. */
  async waitFor(position: number): Promise<void> {
    while (!this.has(position)) {
      if (this.ended) throw this.failure ?? new Error(`the results of ${this.path} ended early`);
      await new Promise<void>((resume) => {
        this.waiting = { position, resume };
      });
    }
  }

  /**
   * The stored line of the request at `position` (no newline), for the reader, who takes each result once; valid
   * until the next call.
   */
  take(position: number): Buffer {
    const offset = this.offsets[position] as number;
    const length = (this.lengths[position] as number) - 1;
    if (offset < 0) throw new Error(`no result for request ${position} of ${this.path}`);
    if (offset >= this.chunkStart) {
      this.chunkTaken += 1;
      const at = offset - this.chunkStart;
      return this.chunk.subarray(at, at + length);
    }
    const first = Math.floor(offset / BLOCK_BYTES);
    if (
      Math.floor((offset + length) / BLOCK_BYTES) !== first ||
      (first + 1) * BLOCK_BYTES > this.chunkStart
    ) {
      // Across two blocks, or in a block not final yet: read as it is, and not cached.
      if (length > this.scratch.length) this.scratch = Buffer.allocUnsafe(length);
      readSync(this.fd, this.scratch, 0, length, offset);
      return this.scratch.subarray(0, length);
    }
    let block = this.blocks.get(first);
    if (block) this.blocks.delete(first);
    else {
      if (this.blocks.size >= CACHED_BLOCKS) {
        const oldest = this.blocks.keys().next().value as number;
        block = this.blocks.get(oldest);
        this.blocks.delete(oldest);
      }
      block ??= Buffer.allocUnsafe(BLOCK_BYTES);
      block = block.subarray(0, readSync(this.fd, block, 0, BLOCK_BYTES, first * BLOCK_BYTES));
    }
    this.blocks.set(first, block);
    const at = offset - first * BLOCK_BYTES;
    return block.subarray(at, at + length);
  }

  /** Closes and deletes the spill file. */
  async remove(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
    this.blocks.clear();
    await rm(this.path, { force: true });
  }
}

/** Where each of a shard's request IDs is in the shard: an open-addressing table of places, 2–4 bytes an ID. */
class PositionIndex {
  private readonly table: Int32Array;

  constructor(private readonly ids: readonly string[]) {
    let size = 16;
    while (size < ids.length * 2) size *= 2;
    this.table = new Int32Array(size).fill(-1);
    const mask = size - 1;
    ids.forEach((id, position) => {
      let slot = fnv1a(id) & mask;
      while (this.table[slot] !== -1) slot = (slot + 1) & mask;
      this.table[slot] = position;
    });
  }

  get(id: string): number | undefined {
    const mask = this.table.length - 1;
    for (let slot = fnv1a(id) & mask; ; slot = (slot + 1) & mask) {
      const position = this.table[slot] as number;
      if (position === -1) return undefined;
      if (this.ids[position] === id) return position;
    }
  }
}

/**
 * Starts downloading one shard's results, spilled to disk as they arrive and readable at once (see ShardSpill);
 * a request the provider returned nothing for gets a result that says why (expired, cancelled, failed), placed
 * once the download has ended. Structured output is checked against the request's schema on the way. Resolves once
 * the download has started; `finished` settles when it ends. Stops early, leaving the spill incomplete, once
 * `stopped()`.
 */
export async function spillShardResults(options: {
  adapter: ProviderAdapter;
  shard: ShardRecord;
  jobDir: string;
  stopped?: () => boolean;
}): Promise<ShardSpill> {
  const { adapter, shard, jobDir } = options;
  const stopped = options.stopped ?? (() => false);
  const ids: string[] = [];
  for await (const id of readLines(join(jobDir, shardIdsFile(shard.index)))) ids.push(id);
  const expected = await readShardFormats(jobDir, shard.index, ids.length);
  const checker = expected ? new OutputChecker() : null;
  const spill = new ShardSpill(join(jobDir, shardSpillFile(shard.index)), ids.length);
  const download = async () => {
    const positions = new PositionIndex(ids);
    if (shard.provider_batch_id) {
      for await (const parsed of adapter.readResults(batchFromShard(shard))) {
        if (stopped()) break;
        const position = positions.get(parsed.customId);
        // Unknown IDs cannot belong to this shard; a repeated ID keeps its first record.
        if (position === undefined || spill.has(position)) continue;
        const format = expected?.formatOf(position);
        const result = toResult(parsed);
        spill.place(position, format && checker ? checker.check(result, format) : result, parsed.rawText);
      }
    }
    for (let position = 0; position < ids.length && !stopped(); position += 1) {
      if (!spill.has(position))
        spill.place(position, missingResult(ids[position] as string, shard, position));
    }
  };
  spill.finished = download().then(
    () => spill.end(),
    (error: unknown) => {
      spill.end(error);
      throw error;
    },
  );
  return spill;
}

/** Results in the provider's own order, for jobs that have no stored request list (written by the Python Relay). */
export async function* unorderedResults(
  adapter: ProviderAdapter,
  shards: readonly ShardRecord[],
): AsyncGenerator<BatchResult> {
  for (const shard of shards) {
    if (!shard.provider_batch_id) continue;
    for await (const parsed of adapter.readResults(batchFromShard(shard))) yield toResult(parsed);
  }
}
