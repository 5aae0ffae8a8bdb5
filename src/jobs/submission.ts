import { randomBytes } from "node:crypto";
import { rename, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DEFAULT_ESTIMATED_OUTPUT_TOKENS } from "../cost/estimate.js";
import { type CostReport, CostTally } from "../cost/tally.js";
import { TokenCounters } from "../cost/tokenizer.js";
import { JobExistsError, SubmissionInterruptedError } from "../errors.js";
import { providerEntry } from "../providers/registry.js";
import type { ProviderAdapter, ProviderBatch } from "../providers/types.js";
import {
  type BatchRequest,
  type EmbeddingRequest,
  isFinished,
  type ProviderName,
  type RequestKind,
} from "../types.js";
import type { JobRecord, ShardRecord, StoredCostEstimate } from "../workspace/job-record.js";
import { workspaceError } from "../workspace/workspace.js";
import { admitShards, enqueuedTokens } from "./budget.js";
import { ShardIntake } from "./intake.js";
import {
  type EncodedRequest,
  encodeEmbeddingRequests,
  encodeRequests,
  type PlannedShard,
  planShards,
} from "./plan.js";
import { type JobHandle, newJobRecord } from "./record.js";
import type { PipelineSettings } from "./settings.js";
import type { JobStore } from "./store.js";
import {
  adoptIfCreated,
  advanceShard,
  applyStatus,
  forEachLimited,
  requeueIfPassingFailure,
} from "./submit.js";

interface NewJobBase {
  jobId: string;
  provider: ProviderName;
  description: string;
  /** Already checked by the adapter. */
  endpoint: string | null;
  overwrite: boolean;
  /** For a follow-up job (retryFailed): the job whose requests it runs again. */
  parentJobId?: string;
  /** What the requests are (default "chat"). */
  kind?: RequestKind;
}

/** A job from requests to validate and encode, or from requests already encoded (a retry of stored requests). */
export type NewJob =
  | (NewJobBase & { requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest> })
  | (NewJobBase & { embeddings: Iterable<EmbeddingRequest> | AsyncIterable<EmbeddingRequest> })
  | (NewJobBase & { encoded: AsyncIterable<EncodedRequest> });

/** Adds each request to the cost tally as it passes: prompt tokens as planned, output at its maxTokens or a default. */
async function* tallied(
  requests: AsyncIterable<EncodedRequest>,
  tally: CostTally,
): AsyncGenerator<EncodedRequest> {
  for await (const request of requests) {
    const outputTokens = request.maxOutputTokens ?? DEFAULT_ESTIMATED_OUTPUT_TOKENS;
    tally.add(request.model, {
      inputTokens: request.tokens,
      outputTokens,
      totalTokens: request.tokens + outputTokens,
    });
    yield request;
  }
}

function storedEstimate(report: CostReport): StoredCostEstimate {
  return {
    input_tokens: report.inputTokens,
    output_tokens: report.outputTokens,
    cost_usd: report.costUsd,
    unknown_models: report.unknownModels,
    prices_as_of: report.pricesAsOf,
  };
}

const isOpen = (shard: ShardRecord) => shard.state !== "created" && shard.state !== "create_failed";
const isUndigested = (shard: ShardRecord) => shard.digest === undefined;
/** A job whose requests were still being written when its submission stopped, and not cancelled since. */
const isBeingWritten = (record: JobRecord) => record.requests_written === false && !isFinished(record.status);

/**
 * A job on its way to the provider and back: each shard sent until its batch exists, then watched until it has
 * finished. Owns the job's record (saved after every step), the provider's adapter and the workspace's view of
 * the other jobs (for the enqueued-token budget and for recovery lookups).
 */
export class Submission {
  constructor(
    private readonly job: JobHandle,
    private readonly adapter: ProviderAdapter,
    private readonly store: JobStore,
    private readonly settings: PipelineSettings,
  ) {}

  get record(): JobRecord {
    return this.job.record;
  }

  /**
   * Validates and plans a new job, stores its record, and sends its shards: each shard is recorded and uploaded
   * as soon as it is written, while the next ones are; batches are created once every request is written and
   * valid (see intake.ts for the steps and what a crash leaves). Bad input changes nothing stored. The same requests
   * again under the ID of an interrupted submission carry it on.
   */
  static async start(
    store: JobStore,
    adapter: ProviderAdapter,
    settings: PipelineSettings,
    job: NewJob,
  ): Promise<JobRecord> {
    const { workspace } = store;
    const lock = await store.lock(job.jobId);
    try {
      const existing = await store.load(job.jobId);
      if (existing && isFinished(existing.status) && !job.overwrite) {
        throw new JobExistsError(
          `Job "${job.jobId}" already exists and has finished (status: ${existing.status}). ` +
            "Pass overwrite: true to replace it and delete its stored results, or choose another job ID.",
        );
      }
      // Holding the lock, any other staging directory of this job belongs to a submission that died.
      await workspace.removeStaleStaging(job.jobId);
      const jobDir = workspace.jobDir(job.jobId);
      const staging = await workspace.stagingDir(job.jobId);
      const budget = settings.budget(adapter);
      const limits = settings.limits(adapter);
      let encoded: AsyncIterable<EncodedRequest>;
      let tally: CostTally | undefined;
      if ("encoded" in job) encoded = job.encoded;
      else {
        // The cost estimate kept in the record counts tokens as planned (approximately, unless a budget asks for
        // the tokenizer): an estimate made on the way costs no second pass over the requests.
        tally = new CostTally(providerEntry(job.provider));
        const counters = budget ? new TokenCounters() : undefined;
        const options = { adapter, limits, endpoint: job.endpoint, counters };
        encoded = tallied(
          "embeddings" in job
            ? encodeEmbeddingRequests(job.embeddings, options)
            : encodeRequests(job.requests, options),
          tally,
        );
      }
      const kind = job.kind ?? ("embeddings" in job ? "embeddings" : "chat");
      const newRecord = (
        plan: { shards: readonly PlannedShard[]; nRequests: number; digest: string },
        written: boolean,
      ) =>
        newJobRecord({
          jobId: job.jobId,
          provider: job.provider,
          description: job.description,
          endpoint: job.endpoint,
          plan,
          parentJobId: job.parentJobId,
          kind,
          estimatedCost: null,
          written,
        });
      // Shards go to the provider while the rest are written unless a stored job must stay whole until the new
      // requests are known (one to replace, or one whose requests were all written: compared by digest at the end).
      const writing =
        existing !== null &&
        !isFinished(existing.status) &&
        existing.requests_written === false &&
        existing.provider === job.provider;
      const intake =
        !existing || writing
          ? new ShardIntake(
              existing
                ? { kind: "resume", handle: store.handle(existing) }
                : {
                    kind: "new",
                    record: (first) =>
                      newRecord({ shards: [first], nRequests: first.nRequests, digest: "" }, false),
                    handle: (record) => store.handle(record),
                  },
              workspace,
              adapter,
              staging,
              jobDir,
              settings.submitConcurrency,
            )
          : null;
      if (intake && !existing) {
        // Without a record, files under the job's directory are leftovers of a submission that died before storing
        // it.
        await workspace.removeResults(job.jobId);
        await workspace.removeJobFiles(job.jobId);
      }
      let plan: Awaited<ReturnType<typeof planShards>>;
      try {
        plan = await planShards({
          requests: encoded,
          limits,
          ...(budget ? { maxTokensPerBatch: budget } : {}),
          directory: staging,
          maxRequestsPerJob: settings.maxRequestsPerJob,
          maxBytesPerJob: settings.maxBytesPerJob,
          ...(intake ? { onShard: intake.take } : {}),
          // An interrupted job of an earlier version was recorded with the digest of that version.
          legacyDigest: Boolean(
            existing && !isFinished(existing.status) && existing.shards.every(isUndigested),
          ),
        });
      } catch (error) {
        await intake?.abandon(job.jobId).catch(() => {});
        await workspace.removeStaleStaging(job.jobId);
        throw workspaceError(error, `write the requests of job "${job.jobId}"`);
      }

      if (intake) {
        let handle: JobHandle;
        try {
          handle = await intake.complete(plan, {
            estimated_cost: tally ? storedEstimate(tally.report()) : null,
          });
        } catch (error) {
          await intake.abandon(job.jobId).catch(() => {});
          throw workspaceError(error, `write the requests of job "${job.jobId}"`);
        } finally {
          await workspace.removeStaleStaging(job.jobId);
        }
        const submission = new Submission(handle, adapter, store, settings);
        await submission.advance((index) => intake.uploaded(index));
        return submission.record;
      }

      if (existing && !isFinished(existing.status)) {
        await workspace.removeStaleStaging(job.jobId);
        const interrupted = existing.shards.some(isOpen);
        const digest = existing.shards.every(isUndigested) ? plan.legacyDigest : plan.digest;
        if (interrupted && existing.provider === job.provider && existing.requests_digest === digest) {
          // The same requests again after a crash: carry on with the stored submission.
          const resumed = new Submission(store.handle(existing), adapter, store, settings);
          await resumed.advance();
          return resumed.record;
        }
        throw new JobExistsError(
          `Job "${job.jobId}" already exists and is in progress (status: ${existing.status}). ` +
            "Monitor it, cancel it, or choose another job ID.",
        );
      }
      // A finished job replaced (overwrite): the new requests are all written and valid by now.
      await workspace.removeResults(job.jobId);
      await workspace.removeJobFiles(job.jobId);
      await rename(staging, jobDir);
      await workspace.removeStaleStaging(job.jobId);

      const record = newRecord(plan, true);
      record.estimated_cost = tally ? storedEstimate(tally.report()) : null;
      const submission = new Submission(store.handle(record), adapter, store, settings);
      await submission.job.save();
      await submission.advance();
      return record;
    } finally {
      await lock.release();
    }
  }

  /**
   * The shards the requests would be split into, validated and encoded exactly as a submission would, written to a
   * scratch directory that is removed again. Nothing is sent and nothing stored changes.
   */
  static async dryRun(
    store: JobStore,
    adapter: ProviderAdapter,
    settings: PipelineSettings,
    job: { requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>; endpoint: string | null },
  ): Promise<{ nRequests: number; shards: PlannedShard[] }> {
    // Under staging/, where no job's files are, with a name no job ID can have (job IDs never start with ".").
    const scratch = join(
      store.workspace.directory,
      ".relay",
      "staging",
      `.dry-run-${randomBytes(6).toString("hex")}`,
    );
    const limits = settings.limits(adapter);
    const budget = settings.budget(adapter);
    try {
      const plan = await planShards({
        requests: encodeRequests(job.requests, {
          adapter,
          limits,
          endpoint: job.endpoint,
          counters: budget ? new TokenCounters() : undefined,
        }),
        limits,
        ...(budget ? { maxTokensPerBatch: budget } : {}),
        directory: scratch,
        maxRequestsPerJob: settings.maxRequestsPerJob,
        maxBytesPerJob: settings.maxBytesPerJob,
      });
      return { nRequests: plan.nRequests, shards: plan.shards };
    } finally {
      await rm(scratch, { recursive: true, force: true });
      // The staging directory too, when nothing else is being staged: a dry run leaves nothing behind.
      await rmdir(dirname(scratch)).catch(() => {});
    }
  }

  /**
   * Sends every shard that is due. With an enqueued-token budget, shards that would take the workspace's running
   * batches past it wait for a later call (monitorBatch, waitForBatch, recover).
   */
  async advance(beforeShard?: (index: number) => Promise<void>): Promise<void> {
    const record = this.job.record;
    if (isBeingWritten(record)) throw new SubmissionInterruptedError(record.job_id);
    let open = record.shards.filter(isOpen);
    const budget = this.settings.budget(this.adapter);
    if (budget && open.length > 0) {
      const records = [record, ...(await this.store.others(record.job_id))];
      open = admitShards(open, enqueuedTokens(records, this.adapter.name), budget);
    }
    const jobDir = this.store.workspace.jobDir(record.job_id);
    await forEachLimited(open, this.settings.submitConcurrency, async (shard) => {
      await beforeShard?.(shard.index);
      await advanceShard(this.job, this.adapter, shard.index, jobDir);
    });
  }

  /**
   * Polls every unfinished batch, puts back shards whose batch was refused for a passing reason (the enqueued-token
   * limit), and sends what is not sent (an interrupted submission, or a shard due again).
   */
  async refresh(): Promise<void> {
    const record = this.job.record;
    if (isBeingWritten(record)) throw new SubmissionInterruptedError(record.job_id);
    const watched = record.shards.filter(
      (shard) => shard.state === "created" && shard.provider_batch_id !== null && !isFinished(shard.status),
    );
    // With several batches to watch, one list call usually covers them all.
    const listed =
      watched.length > 1 && this.adapter.getBatches
        ? await this.adapter.getBatches(
            watched.map((shard) => shard.provider_batch_id as string),
            Date.parse(record.created_at),
          )
        : new Map<string, ProviderBatch>();
    for (const shard of watched) {
      const id = shard.provider_batch_id as string;
      applyStatus(shard, listed.get(id) ?? (await this.adapter.getBatch(id)), this.adapter.name);
      requeueIfPassingFailure(shard, this.settings.requeueDelayMs);
    }
    await this.job.save();
    if (record.shards.some(isOpen)) await this.advance();
  }

  /** Cancels every unfinished batch; shards not yet created never will be. True when anything was cancelled. */
  async cancel(): Promise<boolean> {
    let accepted = false;
    for (const shard of this.job.record.shards) {
      if (shard.state === "create_failed") continue;
      if (shard.state !== "created") {
        // A shard mid-creation is resolved first, so that no batch is left running.
        if (shard.state === "creating") await adoptIfCreated(this.job, this.adapter, shard.index);
        // A batch being filled is cancelled with what it holds; the requests it never got come back cancelled.
        if ((shard.state as ShardRecord["state"]) === "adding") shard.state = "created";
        if ((shard.state as ShardRecord["state"]) !== "created") {
          shard.state = "create_failed";
          shard.status = "cancelled";
          shard.error = {
            code: "cancelled_before_submission",
            message: "Cancelled before the batch was created.",
          };
          accepted = true;
          continue;
        }
      }
      if (isFinished(shard.status) || !shard.provider_batch_id) continue;
      applyStatus(shard, await this.adapter.cancelBatch(shard.provider_batch_id), this.adapter.name);
      accepted = true;
    }
    await this.job.save();
    return accepted;
  }
}
