import { closeSync, openSync, readSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CorruptWorkspaceError } from "../errors.js";
import type { ParsedResult, ProviderAdapter, ProviderBatch } from "../providers/types.js";
import type { ResolvedFormat } from "../requests/format.js";
import { OutputChecker } from "../requests/output.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { ChunkWriter } from "../util/chunk-writer.js";
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

/** `,"raw":` in bytes: what separates a stored result's other fields from its raw record. */
const RAW_KEY = Buffer.from(',"raw":');

/**
 * A result's stored JSON in two parts: its other fields (an object) and its raw record, which goes last so that
 * a reader can leave it unparsed (see resultFromLine). `rawText` is the raw record as the provider sent it, stored
 * as it is rather than serialised again. Every configured API key is redacted from both.
 */
export function resultParts(
  result: BatchResult,
  rawText?: string,
): { fields: string; raw: string | undefined } {
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

/**
 * A result as one stored line: JSON with `raw` last. `head` is the byte length of the line before `,"raw":`, or
 * -1 when there is no raw record.
 */
export function serialiseResult(result: BatchResult, rawText?: string): { line: string; head: number } {
  const { fields, raw } = resultParts(result, rawText);
  if (raw === undefined) return { line: fields, head: -1 };
  return { line: `${fields.slice(0, -1)},"raw":${raw}}`, head: Buffer.byteLength(fields) - 1 };
}

/** Appends a result as a stored line (see serialiseResult); returns its bytes (newline included) and head. */
function writeResult(
  writer: ChunkWriter,
  result: BatchResult,
  rawText: string | undefined,
): { bytes: number; head: number } {
  const { fields, raw } = resultParts(result, rawText);
  if (raw === undefined) return { bytes: writer.line(fields), head: -1 };
  const head = writer.text(fields.slice(0, -1));
  const bytes = head + writer.bytes(RAW_KEY) + writer.text(raw) + writer.text("}\n");
  return { bytes, head };
}

/**
 * A stored result line as a BatchResult, its `raw` parsed only when first read: most callers never look at it,
 * and it is most of what there is to parse. Reading or spreading the result gives the same values as parsing the
 * whole line (JSON.stringify too).
 */
export function resultFromLine(line: Buffer, head: number): BatchResult {
  if (head < 0 || line.compare(RAW_KEY, 0, RAW_KEY.length, head, head + RAW_KEY.length) !== 0)
    return JSON.parse(line.toString("utf8")) as BatchResult;
  const result = JSON.parse(`${line.toString("utf8", 0, head)}}`) as BatchResult;
  const rawText = line.toString("utf8", head + RAW_KEY.length, line.length - 1);
  Object.defineProperty(result, "raw", {
    enumerable: true,
    configurable: true,
    get() {
      const raw = JSON.parse(rawText) as unknown;
      Object.defineProperty(result, "raw", {
        value: raw,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      return raw;
    },
    set(value: unknown) {
      Object.defineProperty(result, "raw", { value, enumerable: true, configurable: true, writable: true });
    },
  });
  return result;
}

const BLOCK_BYTES = 64 * 1024;
const CACHED_BLOCKS = 8;

/**
 * One shard's results on disk in the order they arrived, with where each request's result lies (by the request's
 * place in the shard): read back in request order by position, a few blocks cached, since providers list results
 * in runs (forwards or backwards) more often than at random. Nothing per result stays on the heap but 16 bytes of
 * place.
 */
export class ShardSpill {
  readonly offsets: Float64Array;
  /** Bytes of each result line, its newline included. */
  readonly lengths: Uint32Array;
  /** See serialiseResult. */
  readonly heads: Int32Array;
  succeeded = 0;
  private fd: number | null = null;
  private readonly blocks = new Map<number, Buffer>();
  private scratch = Buffer.allocUnsafe(BLOCK_BYTES);

  constructor(
    readonly path: string,
    nRequests: number,
  ) {
    this.offsets = new Float64Array(nRequests).fill(-1);
    this.lengths = new Uint32Array(nRequests);
    this.heads = new Int32Array(nRequests);
  }

  get nRequests(): number {
    return this.offsets.length;
  }

  has(position: number): boolean {
    return (this.offsets[position] as number) >= 0;
  }

  /** The stored line of the request at `position` (no newline); valid until the next read. */
  line(position: number): Buffer {
    const offset = this.offsets[position] as number;
    const length = (this.lengths[position] as number) - 1;
    if (offset < 0) throw new Error(`no result for request ${position} of ${this.path}`);
    this.fd ??= openSync(this.path, "r");
    const first = Math.floor(offset / BLOCK_BYTES);
    if (Math.floor((offset + length) / BLOCK_BYTES) !== first) {
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
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.blocks.clear();
    await rm(this.path, { force: true });
  }
}

/**
 * Downloads one shard's results and spills them to disk as they arrive, noting where each request's result lies;
 * a request the provider returned nothing for gets a result that says why (expired, cancelled, failed), spilled
 * after the rest. Structured output is checked against the request's schema on the way. Nothing per result stays
 * on the heap, so memory does not grow with the job. Stops early, leaving the spill incomplete, once `stopped()`.
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
  const positions = new Map<string, number>(ids.map((id, position) => [id, position]));
  const spill = new ShardSpill(join(jobDir, shardSpillFile(shard.index)), ids.length);
  const writer = new ChunkWriter(spill.path);
  const place = (position: number, result: BatchResult, rawText?: string) => {
    spill.offsets[position] = writer.bytesWritten;
    const { bytes, head } = writeResult(writer, result, rawText);
    spill.lengths[position] = bytes;
    spill.heads[position] = head;
    if (result.status === "succeeded") spill.succeeded += 1;
  };
  try {
    if (shard.provider_batch_id) {
      for await (const parsed of adapter.readResults(batchFromShard(shard))) {
        if (stopped()) break;
        const position = positions.get(parsed.customId);
        // Unknown IDs cannot belong to this shard; a repeated ID keeps its first record.
        if (position === undefined || spill.has(position)) continue;
        const format = expected?.formatOf(position);
        const result = toResult(parsed);
        place(position, format && checker ? checker.check(result, format) : result, parsed.rawText);
      }
    }
    positions.clear();
    for (let position = 0; position < ids.length && !stopped(); position += 1) {
      if (!spill.has(position)) place(position, missingResult(ids[position] as string, shard, position));
    }
    writer.close();
  } catch (error) {
    writer.destroy();
    await spill.remove();
    throw error;
  }
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
