import { join } from "node:path";
import { CorruptWorkspaceError, JobExistsError, JobNotFoundError, RelayError } from "../errors.js";
import type { ProviderAdapter } from "../providers/types.js";
import type { BatchResult, ResultStatus } from "../types.js";
import { readLines } from "../util/lines.js";
import { assertValidJobId } from "../workspace/job-id.js";
import type { JobRecord } from "../workspace/job-record.js";
import type { Workspace } from "../workspace/workspace.js";
import { type EncodedRequest, ORDER_FILE, shardFile, shardIdsFile } from "./plan.js";
import { readShardFormats } from "./results.js";
import { readStoredResults } from "./retrieval.js";
import type { PipelineSettings } from "./settings.js";
import type { JobStore } from "./store.js";
import { Submission } from "./submission.js";

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

/**
 * Starts the follow-up job of a finished job whose results are stored: exactly the requests whose results have one
 * of `statuses`, as first sent, linked both ways (`parent_job_id`, `retry_job_ids`). The link is stored first, so
 * that no follow-up can be left unlinked by a crash (a link to a job never made is skipped where links are read).
 */
export async function startRetry(
  store: JobStore,
  adapter: ProviderAdapter,
  settings: PipelineSettings,
  parent: JobRecord,
  options: { statuses: ReadonlySet<string>; jobId?: string | undefined; description?: string | undefined },
): Promise<JobRecord> {
  const { statuses } = options;
  let matching = 0;
  for await (const result of readStoredResults(store, parent.job_id))
    if (statuses.has(result.status)) matching += 1;
  if (matching === 0) {
    throw new RelayError(
      "nothing_to_retry",
      `Job "${parent.job_id}" has no ${[...statuses].join(", ")} results; there is nothing to retry.`,
    );
  }
  const childId = options.jobId ?? nextRetryJobId(parent, new Set(await store.workspace.listJobIds()));
  assertValidJobId(childId);
  if (await store.load(childId)) {
    throw new JobExistsError(`Job "${childId}" already exists; give the follow-up job another ID.`);
  }
  await store.workspace.assertWritable();
  const link = (change: (ids: string[]) => string[]) =>
    store.withJob(parent.job_id, async (job) => {
      job.record.retry_job_ids = change(job.record.retry_job_ids ?? []);
      await job.save();
    });
  await link((ids) => [...ids, childId]);
  try {
    return await Submission.start(store, adapter, settings, {
      jobId: childId,
      provider: parent.provider,
      description:
        options.description ?? `Retry of ${matching} ${[...statuses].join("/")} requests of ${parent.job_id}`,
      endpoint: parent.endpoint,
      overwrite: false,
      parentJobId: parent.job_id,
      kind: parent.kind ?? "chat",
      encoded: requestsToRetry(store.workspace, parent, readStoredResults(store, parent.job_id), statuses),
    });
  } catch (error) {
    if (!(await store.load(childId))) await link((ids) => ids.filter((id) => id !== childId));
    throw error;
  }
}

/**
 * A job's results with those of its follow-up jobs laid over them: one per original request, in order, each from
 * the latest attempt that has one, with `attempt` saying which. `resultsOf` streams one job's own results (fetching
 * them first where they are not stored); every stream is in the original request order, so the merge holds one
 * result per job of the chain at a time.
 */
export async function* mergedResults(
  store: JobStore,
  jobId: string,
  resultsOf: (jobId: string) => AsyncIterable<BatchResult>,
  number = 0,
): AsyncGenerator<BatchResult> {
  const record = await store.load(jobId);
  if (!record) throw new JobNotFoundError(jobId);
  const followUps: Peekable<BatchResult>[] = [];
  for (const childId of record.retry_job_ids ?? []) {
    if (await store.load(childId))
      followUps.push(
        new Peekable(mergedResults(store, childId, resultsOf, number + 1)[Symbol.asyncIterator]()),
      );
  }
  try {
    for await (const result of resultsOf(jobId)) {
      let latest: BatchResult = { ...result, attempt: { jobId, number } };
      for (const followUp of followUps) {
        if ((await followUp.peek())?.id === result.id) latest = (await followUp.take()) as BatchResult;
      }
      yield latest;
    }
    // Read each follow-up to its end: one fetched now is stored only then (and its lock released).
    for (const followUp of followUps) while ((await followUp.take()) !== undefined);
  } finally {
    for (const followUp of followUps) await followUp.close();
  }
}

/** An async iterator whose next value can be looked at before it is taken. */
class Peekable<T> {
  private next: Promise<IteratorResult<T>> | undefined;

  constructor(private readonly source: AsyncIterator<T>) {}

  async peek(): Promise<T | undefined> {
    this.next ??= this.source.next();
    const result = await this.next;
    return result.done ? undefined : result.value;
  }

  async take(): Promise<T | undefined> {
    const value = await this.peek();
    this.next = undefined;
    return value;
  }

  /** Stops the source (a generator's finally blocks run). */
  async close(): Promise<void> {
    await this.source.return?.(undefined);
  }
}
