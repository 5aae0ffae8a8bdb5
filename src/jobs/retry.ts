import { join } from "node:path";
import { CorruptWorkspaceError, RelayError } from "../errors.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { readLines } from "../util/lines.js";
import type { JobRecord } from "../workspace/job-record.js";
import type { Workspace } from "../workspace/workspace.js";
import { type EncodedRequest, ORDER_FILE, shardFile, shardIdsFile } from "./plan.js";
import { readShardFormats } from "./results.js";

/** The statuses retryFailed runs again unless told otherwise: every result without a usable answer. */
export const DEFAULT_RETRY_STATUSES: readonly ResultStatus[] = [
  "failed",
  "expired",
  "cancelled",
  "invalid_output",
];

export const RETRYABLE_STATUSES: ReadonlySet<string> = new Set<ResultStatus>(DEFAULT_RETRY_STATUSES);

/** The ID of the next follow-up job of `parent`: `<parent>-retry-<n>`, the first n not in use. */
export function nextRetryJobId(parent: JobRecord, taken: ReadonlySet<string>): string {
  const base = parent.job_id.length > 110 ? parent.job_id.slice(0, 110) : parent.job_id;
  for (let n = (parent.retry_job_ids?.length ?? 0) + 1; ; n += 1) {
    const id = `${base}-retry-${n}`;
    if (!taken.has(id)) return id;
  }
}

/**
 * The stored requests of a finished job whose results have one of `statuses`, exactly as they were sent (the lines
 * of its shard files), in request order. Walks the results, the job's order file and every shard file side by
 * side, so that memory does not grow with the job.
 */
export async function* requestsToRetry(
  workspace: Workspace,
  record: JobRecord,
  results: AsyncIterable<BatchResult>,
  statuses: ReadonlySet<string>,
): AsyncGenerator<EncodedRequest> {
  if (record.submission_id === "") {
    throw new RelayError(
      "not_retryable",
      `Job "${record.job_id}" was submitted by the Python Relay, which keeps no copy of its requests; submit the ` +
        "failed requests again as a new job.",
    );
  }
  const jobDir = workspace.jobDir(record.job_id);
  const order = readLines(join(jobDir, ORDER_FILE))[Symbol.asyncIterator]();
  const shards = await Promise.all(
    record.shards.map(async (shard) => ({
      model: shard.model,
      lines: readLines(join(jobDir, shardFile(shard.index)))[Symbol.asyncIterator](),
      ids: readLines(join(jobDir, shardIdsFile(shard.index)))[Symbol.asyncIterator](),
      formats: await readShardFormats(jobDir, shard.index, shard.n_requests),
      position: 0,
    })),
  );
  const corrupt = (detail: string) => new CorruptWorkspaceError(join(jobDir, ORDER_FILE), detail);
  try {
    let position = 0;
    for await (const result of results) {
      const shardIndex = await order.next();
      const shard = shardIndex.done ? undefined : shards[Number(shardIndex.value)];
      if (!shard) throw corrupt(`no shard recorded for request #${position + 1}`);
      const [line, id] = await Promise.all([shard.lines.next(), shard.ids.next()]);
      if (line.done || id.done || id.value !== result.id) {
        throw corrupt(`request #${position + 1} (${result.id}) is not where the job's files say it is`);
      }
      const format = shard.formats?.formatOf(shard.position);
      shard.position += 1;
      if (statuses.has(result.status)) {
        yield {
          id: result.id,
          model: shard.model,
          line: line.value,
          bytes: Buffer.byteLength(line.value) + 1,
          // The prompt's text is inside the provider's encoding: counted approximately from the whole line.
          tokens: Math.ceil(line.value.length / 4),
          format,
        };
      }
      position += 1;
    }
  } finally {
    await order.return?.(undefined);
    for (const shard of shards) {
      await shard.lines.return?.(undefined);
      await shard.ids.return?.(undefined);
    }
  }
}
