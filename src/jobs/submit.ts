import { join } from "node:path";
import { ProviderError, RelayError } from "../errors.js";
import {
  AmbiguousCreateError,
  type BatchLookup,
  type ProviderAdapter,
  type ProviderBatch,
  type ShardTags,
} from "../providers/types.js";
import { nowIso, type ShardRecord } from "../workspace/job-record.js";
import { shardFile } from "./plan.js";
import { countsFromProgress } from "./progress.js";
import type { JobHandle } from "./record.js";

const CREATE_ATTEMPTS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Copies what the provider says about a batch into the shard record. */
export function applyBatch(shard: ShardRecord, batch: ProviderBatch): void {
  shard.provider_batch_id = batch.id;
  shard.state = "created";
  shard.status = batch.status;
  shard.provider_status = batch.providerStatus;
  const counts =
    batch.progress === null
      ? batch
      : countsFromProgress(batch.status, batch.progress, shard.n_requests, batch.failed);
  shard.completed_requests = counts.completed;
  shard.failed_requests = counts.failed;
  shard.output_file_id = batch.outputFileId;
  shard.error_file_id = batch.errorFileId;
  shard.input_file_id ??= batch.inputFileId;
  shard.error = batch.error;
  if (batch.resultsExpireAt != null) shard.results_expire_at = new Date(batch.resultsExpireAt).toISOString();
  shard.updated_at = nowIso();
}

/**
 * Copies a status answer into the shard, after checking that it is about the shard's batch: an answer about
 * another batch (a proxy or redirect gone wrong) must never replace the stored batch ID, or the paid batch would
 * be lost track of. Nothing is changed when it is not.
 */
export function applyStatus(shard: ShardRecord, batch: ProviderBatch, provider: string): void {
  if (batch.id !== shard.provider_batch_id) {
    throw new ProviderError(
      provider,
      `asked about batch ${shard.provider_batch_id}, the provider answered about ${JSON.stringify(batch.id)}. ` +
        "Nothing was changed; check the base URL (a proxy or redirect may point elsewhere) and try again.",
      { code: "unexpected_answer" },
    );
  }
  applyBatch(shard, batch);
}

/**
 * Refusals of a batch creation that certainly created nothing and that the user can put right (a wrong or
 * expired key, no credit, no permission, a base URL that points at the wrong place): the shard waits to be
 * created by the next `recover`, `monitorBatch` or submission of the same requests, instead of failing the job.
 * Any other refusal (400, 413, 422…) is about the batch itself and fails it.
 */
const FIXABLE_REFUSALS = new Set([401, 402, 403, 404]);

function tagsOf(handle: JobHandle, shard: ShardRecord): ShardTags {
  return {
    jobId: handle.record.job_id,
    shardIndex: shard.index,
    submissionId: handle.record.submission_id,
    attempt: shard.attempt,
  };
}

function lookupFor(handle: JobHandle, shard: ShardRecord): BatchLookup {
  return {
    tags: tagsOf(handle, shard),
    since: Date.parse(shard.updated_at),
    inputFileId: shard.input_file_id,
    nRequests: shard.n_requests,
    previousBatchIds: shard.previous_batch_ids,
    knownBatchIds: handle.knownBatchIds,
  };
}

/** For a shard whose creation outcome is unknown: adopts the batch if the provider has it. */
export async function adoptIfCreated(
  handle: JobHandle,
  adapter: ProviderAdapter,
  index: number,
): Promise<boolean> {
  const shard = handle.shard(index);
  const found = await adapter.findBatch(lookupFor(handle, shard));
  if (!found) return false;
  applyBatch(shard, found);
  beginFilling(shard, adapter);
  await handle.save();
  return true;
}

/** A batch just created or adopted: providers whose batches are created empty have it filled next. */
function beginFilling(shard: ShardRecord, adapter: ProviderAdapter): void {
  if (!adapter.addRequests) return;
  shard.state = "adding";
  shard.requests_added = 0;
  shard.add_error = null;
}

function isFilling(shard: ShardRecord): boolean {
  return shard.state === "adding";
}

/** A refusal that sending the same requests again would not change (not auth, rate limits or conflicts). */
function isRefusal(error: unknown): error is ProviderError {
  const status = error instanceof ProviderError ? error.httpStatus : undefined;
  return status !== undefined && status >= 400 && status < 500 && ![401, 403, 408, 409, 429].includes(status);
}

/**
 * Fills a shard's batch with its requests (state "adding"), recording after every add call how many of them the
 * batch holds, so that a crash or a lost answer resumes where the provider stands: the adapter is told when the count
 * may be behind (`uncertain`) and asks the provider before adding more. A refused add ends the filling: the batch
 * runs with what it holds, and the requests it never got are reported failed with the provider's reason.
 */
async function fillShard(
  handle: JobHandle,
  adapter: ProviderAdapter,
  index: number,
  shardPath: string,
  uncertain: boolean,
): Promise<void> {
  const shard = handle.shard(index);
  const batchId = shard.provider_batch_id;
  if (!adapter.addRequests || !batchId) throw new Error(`shard ${index} has no batch to add requests to`);
  for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt += 1) {
    try {
      const batch = await adapter.addRequests({
        batchId,
        shardPath,
        endpoint: handle.record.endpoint,
        added: shard.requests_added ?? 0,
        uncertain: uncertain || attempt > 1,
        onAdded: async (added) => {
          shard.requests_added = added;
          shard.updated_at = nowIso();
          await handle.save();
        },
      });
      applyBatch(shard, batch);
      await handle.save();
      return;
    } catch (error) {
      if (isRefusal(error)) {
        shard.add_error = {
          code: error.code,
          message: `the provider refused to add this request to batch ${batchId}: ${error.message}`,
        };
        shard.state = "created";
        if ((shard.requests_added ?? 0) === 0) {
          // An empty batch never ends; with nothing to run, the shard has failed.
          shard.state = "create_failed";
          shard.status = "failed";
          shard.error = shard.add_error;
        }
        shard.updated_at = nowIso();
        await handle.save();
        throw error;
      }
      if (attempt < CREATE_ATTEMPTS) await sleep(250 * attempt);
    }
  }
  throw new ProviderError(
    adapter.name,
    `could not add every request to batch ${index} of job "${handle.record.job_id}" after ${CREATE_ATTEMPTS} ` +
      `attempts. The job is saved; run client.recover("${handle.record.job_id}") or ` +
      `\`relay recover ${handle.record.job_id}\` later.`,
    { code: "create_incomplete" },
  );
}

/**
 * One create call, its outcome recorded: the batch it made, or the one a lost answer had made (found by its tags),
 * or none yet (a lost answer with nothing found, or rate limited). A refused creation is final: the shard is failed.
 */
async function createOnce(
  handle: JobHandle,
  adapter: ProviderAdapter,
  index: number,
  shardPath: string,
  attempt: number,
): Promise<"created" | "adopted" | "not_created"> {
  const shard = handle.shard(index);
  shard.state = "creating";
  shard.updated_at = nowIso();
  await handle.save();
  try {
    const batch = await adapter.createBatch({
      inputFileId: shard.input_file_id,
      shardPath,
      endpoint: handle.record.endpoint,
      model: shard.model,
      kind: handle.record.kind ?? "chat",
      tags: tagsOf(handle, shard),
    });
    applyBatch(shard, batch);
    shard.retry_at = null;
    beginFilling(shard, adapter);
    await handle.save();
    return "created";
  } catch (error) {
    if (error instanceof AmbiguousCreateError) {
      // The provider may have created the batch even though the answer was lost: look before trying again.
      await sleep(250 * attempt);
      if (await adoptIfCreated(handle, adapter, index)) return "adopted";
    } else if (error instanceof ProviderError && error.httpStatus === 429) {
      await sleep(1000 * 2 ** (attempt - 1));
    } else if (
      error instanceof ProviderError &&
      (FIXABLE_REFUSALS.has(error.httpStatus ?? 0) || error.code === "key_refused")
    ) {
      // A 404 may also mean the uploaded file is gone: the next attempt uploads it again.
      shard.state = error.httpStatus === 404 || shard.input_file_id === null ? "planned" : "uploaded";
      if (shard.state === "planned") shard.input_file_id = null;
      shard.error = { code: `http_${error.httpStatus}`, message: error.message };
      shard.updated_at = nowIso();
      await handle.save();
      throw error;
    } else {
      shard.state = "create_failed";
      shard.status = "failed";
      shard.provider_status = null;
      shard.error = {
        code: error instanceof RelayError ? error.code : "create_failed",
        message: (error as Error).message,
      };
      shard.updated_at = nowIso();
      await handle.save();
      throw error;
    }
    shard.state = "uploaded";
    await handle.save();
    return "not_created";
  }
}

/**
 * Uploads a planned shard's file (inline providers upload nothing) and records it: planned → uploaded. The record
 * says "planned" before the call; a crash before the answer is recorded leaves an unused file at the provider,
 * never a batch, and the shard is uploaded again.
 */
export async function uploadShard(
  handle: JobHandle,
  adapter: ProviderAdapter,
  index: number,
  jobDir: string,
): Promise<void> {
  const shard = handle.shard(index);
  if (shard.state !== "planned") return;
  shard.input_file_id = await adapter.uploadShard(join(jobDir, shardFile(index)), tagsOf(handle, shard));
  shard.state = "uploaded";
  shard.updated_at = nowIso();
  await handle.save();
}

/**
 * Moves one shard forward until its batch exists at the provider, recording each step before and after the
 * provider call, so that a crash at any point can be resumed without losing or duplicating a batch:
 * planned → (upload) → uploaded → creating → (create) → created, with "adding" (the batch is filled, one recorded
 * add call at a time) before "created" for providers whose batches are created empty.
 * A shard found in `creating` (a create whose outcome was never recorded) is looked up by its tags first.
 */
export async function advanceShard(
  handle: JobHandle,
  adapter: ProviderAdapter,
  index: number,
  jobDir: string,
): Promise<void> {
  const shard = handle.shard(index);
  const shardPath = join(jobDir, shardFile(index));

  if (shard.state === "created" || shard.state === "create_failed") return;
  if (shard.retry_at !== null && Date.parse(shard.retry_at) > Date.now()) return;
  // Found filling: the process that was adding requests stopped before it recorded the last call's outcome.
  if (shard.state === "adding") return fillShard(handle, adapter, index, shardPath, true);

  if (shard.state === "creating") {
    if (await adoptIfCreated(handle, adapter, index)) {
      if (isFilling(shard)) await fillShard(handle, adapter, index, shardPath, true);
      return;
    }
    // Inline providers have no file: going back to "planned" costs them nothing.
    shard.state = shard.input_file_id !== null ? "uploaded" : "planned";
  }

  if (shard.state === "planned") await uploadShard(handle, adapter, index, jobDir);

  for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt += 1) {
    const outcome = await createOnce(handle, adapter, index, shardPath, attempt);
    if (outcome === "not_created") continue;
    // A batch adopted after a lost answer may be filled by now, as far as anyone knows: ask before adding.
    if (isFilling(shard)) await fillShard(handle, adapter, index, shardPath, outcome === "adopted");
    return;
  }
  throw new ProviderError(
    adapter.name,
    `could not create batch ${index} of job "${handle.record.job_id}" after ${CREATE_ATTEMPTS} attempts. ` +
      `The job is saved; run client.recover("${handle.record.job_id}") or \`relay recover ${handle.record.job_id}\` later.`,
    { code: "create_incomplete" },
  );
}

/** Batch-level failures that say "not now" rather than "never": the shard is submitted again later. */
const PASSING_FAILURES = new Set(["token_limit_exceeded"]);
export const DEFAULT_REQUEUE_DELAY_MS = 30_000;
const REQUEUE_MAX_DELAY_MS = 30 * 60_000;

/**
 * A batch that failed for a passing reason (the provider's enqueued-token limit was full) ran nothing, so the
 * shard goes back to be created again from the same input, after a growing delay. Returns whether it was requeued.
 */
export function requeueIfPassingFailure(shard: ShardRecord, baseDelayMs = DEFAULT_REQUEUE_DELAY_MS): boolean {
  if (
    shard.status !== "failed" ||
    !shard.provider_batch_id ||
    !PASSING_FAILURES.has(shard.error?.code ?? "")
  ) {
    return false;
  }
  const delay = Math.min(baseDelayMs * 2 ** shard.attempt, REQUEUE_MAX_DELAY_MS);
  shard.previous_batch_ids.push(shard.provider_batch_id);
  shard.provider_batch_id = null;
  shard.attempt += 1;
  shard.state = shard.input_file_id !== null ? "uploaded" : "planned";
  if (shard.requests_added !== undefined) shard.requests_added = 0;
  if (shard.add_error !== undefined) shard.add_error = null;
  shard.status = "pending";
  shard.provider_status = null;
  shard.output_file_id = null;
  shard.error_file_id = null;
  shard.retry_at = new Date(Date.now() + delay).toISOString();
  shard.updated_at = nowIso();
  return true;
}

/** Runs `task` over `items` with at most `limit` running at once; the first error is rethrown after all settle. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}
