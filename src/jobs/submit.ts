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
  await handle.save();
  return true;
}

/**
 * Moves one shard forward until its batch exists at the provider, recording each step before and after the
 * provider call, so that a crash at any point can be resumed without losing or duplicating a batch:
 * planned → (upload) → uploaded → creating → (create) → created.
 * A shard found in `creating` (a create whose outcome was never recorded) is looked up by its tags first.
 */
export async function advanceShard(
  handle: JobHandle,
  adapter: ProviderAdapter,
  index: number,
  jobDir: string,
): Promise<void> {
  const shard = handle.shard(index);
  const tags = tagsOf(handle, shard);
  const shardPath = join(jobDir, shardFile(index));

  if (shard.state === "created" || shard.state === "create_failed") return;
  if (shard.retry_at !== null && Date.parse(shard.retry_at) > Date.now()) return;

  if (shard.state === "creating") {
    if (await adoptIfCreated(handle, adapter, index)) return;
    // Inline providers have no file: going back to "planned" costs them nothing.
    shard.state = shard.input_file_id !== null ? "uploaded" : "planned";
  }

  if (shard.state === "planned") {
    shard.input_file_id = await adapter.uploadShard(shardPath, tags);
    shard.state = "uploaded";
    shard.updated_at = nowIso();
    await handle.save();
  }

  for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt += 1) {
    shard.state = "creating";
    shard.updated_at = nowIso();
    await handle.save();
    try {
      const batch = await adapter.createBatch({
        inputFileId: shard.input_file_id,
        shardPath,
        endpoint: handle.record.endpoint,
        tags,
      });
      applyBatch(shard, batch);
      shard.retry_at = null;
      await handle.save();
      return;
    } catch (error) {
      if (error instanceof AmbiguousCreateError) {
        // The provider may have created the batch even though the answer was lost: look before trying again.
        await sleep(250 * attempt);
        const found = await adapter.findBatch(lookupFor(handle, shard));
        if (found) {
          applyBatch(shard, found);
          await handle.save();
          return;
        }
      } else if (error instanceof ProviderError && error.httpStatus === 429) {
        await sleep(1000 * 2 ** (attempt - 1));
      } else if (error instanceof ProviderError && FIXABLE_REFUSALS.has(error.httpStatus ?? 0)) {
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
    }
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
