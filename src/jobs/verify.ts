import { closeSync, createReadStream, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { CorruptWorkspaceError } from "../errors.js";
import type { BatchResult } from "../types.js";
import type { JobRecord } from "../workspace/job-record.js";
import { ORDER_FILE, shardIdsFile } from "./plan.js";

/** Shard numbers of order.txt (one per line, one line per request in request order), parsed from raw chunks. */
async function* shardOrder(path: string): AsyncGenerator<number> {
  let shard = -1;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (byte >= 48 && byte <= 57) shard = (shard < 0 ? 0 : shard * 10) + (byte - 48);
      else if (byte === 10 && shard >= 0) {
        yield shard;
        shard = -1;
      }
    }
  }
  if (shard >= 0) yield shard;
}

/** The lines of a small-per-line file read forward in blocks, synchronously, so that many can be open at once. */
class LineReader {
  private readonly fd: number;
  private buffer = Buffer.alloc(0);
  private ended = false;
  private readonly block = Buffer.allocUnsafe(16 * 1024);

  constructor(readonly path: string) {
    this.fd = openSync(path, "r");
  }

  next(): string | undefined {
    for (;;) {
      const newline = this.buffer.indexOf(10);
      if (newline !== -1) {
        const line = this.buffer.subarray(0, newline).toString("utf8");
        this.buffer = this.buffer.subarray(newline + 1);
        return line;
      }
      if (this.ended) {
        if (this.buffer.length === 0) return undefined;
        const last = this.buffer.toString("utf8");
        this.buffer = Buffer.alloc(0);
        return last;
      }
      const read = readSync(this.fd, this.block, 0, this.block.length, null);
      if (read === 0) this.ended = true;
      else this.buffer = Buffer.concat([this.buffer, this.block.subarray(0, read)]);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Checks stored results against the job while they stream: exactly one per request, in request order, each with
 * the ID of its request. The job's request order is read from its private files (order.txt says which shard
 * holds each request, each shard's .ids file lists its requests in order), a few KB at a time, so memory stays
 * constant however large the job. Without those files (a workspace copied without `.relay/`) only the count is
 * checked. A job of the Python Relay has no stored order and is passed through as it is.
 */
export async function* checkedResults(
  results: AsyncIterable<BatchResult>,
  options: { record: JobRecord; jobDir: string; resultsPath: string },
): AsyncGenerator<BatchResult> {
  const { record, jobDir, resultsPath } = options;
  if (record.submission_id === "") {
    yield* results;
    return;
  }
  const remedy =
    "fetch the results again with forceRefresh: true (`relay results <job> --refresh`), which replaces the file";
  const corrupt = (detail: string) => new CorruptWorkspaceError(resultsPath, detail, remedy);
  const orderPath = join(jobDir, ORDER_FILE);
  if (!existsSync(orderPath)) {
    let count = 0;
    for await (const result of results) {
      count += 1;
      if (count > record.n_requests)
        throw corrupt(`it holds more than the job's ${record.n_requests} results`);
      yield result;
    }
    if (count !== record.n_requests)
      throw corrupt(`it holds ${count} results; the job has ${record.n_requests} requests`);
    return;
  }

  await checkOrderFile(orderPath, record);
  const readers = new Map<number, LineReader>();
  const order = shardOrder(orderPath);
  let position = 0;
  try {
    for await (const result of results) {
      const next = await order.next();
      if (next.done) throw corrupt(`it holds more than the job's ${record.n_requests} results`);
      const shard = next.value;
      let reader = readers.get(shard);
      if (!reader) {
        const idsPath = join(jobDir, shardIdsFile(shard));
        if (!existsSync(idsPath))
          throw new CorruptWorkspaceError(idsPath, "the request IDs of a shard are missing");
        reader = new LineReader(idsPath);
        readers.set(shard, reader);
      }
      const expected = reader.next();
      if (expected === undefined)
        throw new CorruptWorkspaceError(reader.path, "it lists fewer requests than the job's order file");
      if (result.id !== expected) {
        throw corrupt(
          `result #${position + 1} is for request ${JSON.stringify(result.id)}; the job's request ` +
            `#${position + 1} is ${JSON.stringify(expected)}`,
        );
      }
      position += 1;
      yield result;
    }
    if (position !== record.n_requests)
      throw corrupt(`it holds ${position} results; the job has ${record.n_requests} requests`);
  } finally {
    await order.return(undefined);
    for (const reader of readers.values()) reader.close();
  }
}

/** order.txt must account for exactly each shard's requests; a truncated or foreign one cannot order results. */
export async function checkOrderFile(orderPath: string, record: JobRecord): Promise<void> {
  const counts = new Map<number, number>();
  let total = 0;
  const remedy =
    "the results cannot be put in request order without it; restore it from a backup of the workspace";
  if (!existsSync(orderPath)) throw new CorruptWorkspaceError(orderPath, "it is missing", remedy);
  for await (const shard of shardOrder(orderPath)) {
    counts.set(shard, (counts.get(shard) ?? 0) + 1);
    total += 1;
  }
  const mismatch = record.shards.find((shard) => (counts.get(shard.index) ?? 0) !== shard.n_requests);
  if (total !== record.n_requests || mismatch || counts.size > record.shards.length) {
    throw new CorruptWorkspaceError(
      orderPath,
      `it places ${total} requests${mismatch ? ` (${counts.get(mismatch.index) ?? 0} in shard ${mismatch.index}, which holds ${mismatch.n_requests})` : ""}; ` +
        `the job has ${record.n_requests}`,
      remedy,
    );
  }
}
