import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { JobExistsError, JobNotFinishedError, JobNotFoundError, ValidationError } from "./errors.js";
import { admitShards, enqueuedTokens, type TokenBudget, tokenBudget } from "./jobs/budget.js";
import { checkClientOptions, checkWaitOptions } from "./jobs/options.js";
import { ORDER_FILE, planShards } from "./jobs/plan.js";
import { batchIdsOf, JobHandle, newJobRecord, parseJobRecord, toBatchJob } from "./jobs/record.js";
import { mergeSpilledResults, type ShardSpill, spillShardResults, unorderedResults } from "./jobs/results.js";
import {
  adoptIfCreated,
  advanceShard,
  applyStatus,
  DEFAULT_REQUEUE_DELAY_MS,
  forEachLimited,
  requeueIfPassingFailure,
} from "./jobs/submit.js";
import { checkedResults, checkOrderFile } from "./jobs/verify.js";
import { providerEntry, rememberConfiguredKeys, resolveProviderConfig } from "./providers/registry.js";
import type { RetryListener } from "./providers/shared/retry-notice.js";
import type { ProviderAdapter, ProviderBatch, ProviderConfig, ProviderLimits } from "./providers/types.js";
import {
  type BatchJob,
  type BatchRequest,
  type BatchResult,
  isFinished,
  type JobStatus,
  type ProviderName,
  type ResultStatus,
} from "./types.js";
import { assertValidJobId } from "./workspace/job-id.js";
import type { JobRecord, ShardRecord } from "./workspace/job-record.js";
import type { LockOptions } from "./workspace/lock.js";
import { Workspace, workspaceError } from "./workspace/workspace.js";

export interface RelayClientOptions {
  /** The workspace directory; created if missing. */
  directory: string;
  /** Keys, base URLs and options per provider; anything missing is read from the provider's environment variables. */
  providers?: Partial<Record<ProviderName, ProviderConfig>>;
  /** How many shards are uploaded and created at once. Default 4. */
  submitConcurrency?: number;
  /** How long to wait for another process working on the same job, and when its lock counts as abandoned. */
  lock?: LockOptions;
  /** Environment to read keys and base URLs from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * After a batch is refused for a passing reason (token_limit_exceeded), how long before its shard is submitted
   * again; doubled on each further refusal, up to 30 minutes. Default 30 s.
   */
  requeueDelayMs?: number;
  /**
   * The most requests one job may hold; an input past it (a runaway or endless iterable) is refused with
   * job_too_large and leaves nothing behind. Default 10,000,000.
   */
  maxRequestsPerJob?: number;
  /** The most bytes of encoded requests one job may hold, across its batches. Default 20 GiB. */
  maxBytesPerJob?: number;
  /** Called each time a call to a provider failed in a passing way and is tried again (a timeout, a 503…). */
  onRetry?: RetryListener;
}

export interface SubmitBatchOptions {
  requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>;
  jobId: string;
  provider: ProviderName;
  description?: string;
  /** Replace a finished job of the same ID (its stored results are deleted). */
  overwrite?: boolean;
  /** OpenAI: "/v1/chat/completions" (default) or "/v1/responses". */
  endpoint?: string;
}

export interface WaitOptions {
  /** Time between status checks while the job moves. Default 30 s. */
  pollIntervalMs?: number;
  /**
   * While nothing changes, the time between checks grows by half each time up to this; any progress brings it back
   * to pollIntervalMs. Default 10 minutes (never less than pollIntervalMs).
   */
  maxPollIntervalMs?: number;
  /** Called after every status check. */
  onStatus?: (job: BatchJob) => void;
  signal?: AbortSignal;
}

const RESULT_STATUSES = new Set<ResultStatus>(["succeeded", "failed", "cancelled", "expired"]);

function isRelayResult(value: unknown): value is BatchResult {
  const candidate = value as Partial<BatchResult> | null;
  return (
    candidate !== null &&
    typeof candidate === "object" &&
    typeof candidate.id === "string" &&
    RESULT_STATUSES.has(candidate.status as ResultStatus) &&
    "raw" in candidate
  );
}

/**
 * Submits, watches and collects LLM batch jobs, keeping each job and its results in a workspace directory that
 * any later process can pick up.
 */
export class RelayClient {
  readonly directory: string;
  private readonly workspace: Workspace;
  private readonly providerConfigs: Partial<Record<ProviderName, ProviderConfig>>;
  private readonly adapters = new Map<ProviderName, Promise<ProviderAdapter>>();
  private readonly submitConcurrency: number;
  private readonly lockOptions: LockOptions | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly requeueDelayMs: number;
  private readonly maxRequestsPerJob: number;
  private readonly maxBytesPerJob: number;
  private readonly onRetry: RetryListener | undefined;
  private readonly ready: Promise<void>;

  constructor(options: RelayClientOptions) {
    if (!options || typeof options.directory !== "string" || options.directory.trim() === "") {
      throw new ValidationError(
        'new RelayClient() needs a workspace directory: new RelayClient({ directory: "my_jobs" }).',
      );
    }
    const checked = checkClientOptions(options);
    this.workspace = new Workspace(options.directory);
    this.directory = this.workspace.directory;
    this.providerConfigs = options.providers ?? {};
    this.submitConcurrency = checked.submitConcurrency;
    this.lockOptions = options.lock;
    this.env = options.env ?? process.env;
    this.requeueDelayMs = checked.requeueDelayMs ?? DEFAULT_REQUEUE_DELAY_MS;
    this.maxRequestsPerJob = checked.maxRequestsPerJob;
    this.maxBytesPerJob = checked.maxBytesPerJob;
    this.onRetry = options.onRetry;
    rememberConfiguredKeys(this.providerConfigs, this.env);
    // The directory is created here; a path that cannot be one is reported by every call. A directory that exists
    // but cannot be written is still read; writing to it is refused with workspace_not_writable.
    const unusable = this.workspace.prepare();
    this.ready = unusable ? Promise.reject(unusable) : Promise.resolve();
    this.ready.catch(() => {});
  }

  /** Validates the requests, stores the job, and submits it as one or more provider batches. */
  async submitBatch(options: SubmitBatchOptions): Promise<BatchJob> {
    const { jobId, requests } = options;
    assertValidJobId(jobId);
    if (Array.isArray(requests) && requests.length === 0) {
      throw new ValidationError("The request list is empty; give at least one request.", "empty_batch");
    }
    if (!requests || (typeof requests !== "object" && typeof requests !== "function")) {
      throw new ValidationError("requests must be an array or an iterable of BatchRequest objects.");
    }
    if (options.description !== undefined && typeof options.description !== "string") {
      throw new ValidationError("description must be a string.");
    }
    const adapter = await this.adapter(options.provider);
    const endpoint = adapter.checkEndpoint(options.endpoint ?? adapter.defaultEndpoint);
    await this.ready;
    await this.workspace.assertWritable();

    const lock = await this.workspace.lockJob(jobId, this.lockOptions);
    try {
      const existing = await this.loadRecord(jobId);
      if (existing && isFinished(existing.status) && !options.overwrite) {
        throw new JobExistsError(
          `Job "${jobId}" already exists and has finished (status: ${existing.status}). ` +
            "Pass overwrite: true to replace it and delete its stored results, or choose another job ID.",
        );
      }

      // Requests are validated and written to a staging directory first, so bad input changes nothing stored.
      // Holding the lock, any other staging directory of this job belongs to a submission that died.
      await this.workspace.removeStaleStaging(jobId);
      const jobDir = this.workspace.jobDir(jobId);
      const staging = await this.workspace.stagingDir(jobId);
      let plan: Awaited<ReturnType<typeof planShards>>;
      try {
        const budget = this.budgetFor(adapter);
        plan = await planShards({
          requests,
          adapter,
          limits: this.limitsFor(adapter),
          ...(budget ? { maxTokensPerBatch: (model: string) => budget(model) } : {}),
          endpoint,
          directory: staging,
          maxRequestsPerJob: this.maxRequestsPerJob,
          maxBytesPerJob: this.maxBytesPerJob,
        });
      } catch (error) {
        await this.workspace.removeStaleStaging(jobId);
        throw workspaceError(error, `write the requests of job "${jobId}"`);
      }

      if (existing && !isFinished(existing.status)) {
        await this.workspace.removeStaleStaging(jobId);
        const interrupted = existing.shards.some(
          (shard) => shard.state !== "created" && shard.state !== "create_failed",
        );
        if (interrupted && existing.provider === adapter.name && existing.requests_digest === plan.digest) {
          // The same requests again after a crash: carry on with the stored submission.
          const handle = this.handleFor(existing);
          await this.advanceShards(handle, adapter);
          return toBatchJob(existing);
        }
        throw new JobExistsError(
          `Job "${jobId}" already exists and is in progress (status: ${existing.status}). ` +
            "Monitor it, cancel it, or choose another job ID.",
        );
      }
      // Without a record, files under the job's directory are leftovers of a submission that died before storing it.
      await this.workspace.removeResults(jobId);
      await this.workspace.removeJobFiles(jobId);
      await rename(staging, jobDir);
      await this.workspace.removeStaleStaging(jobId);

      const record = newJobRecord({
        jobId,
        provider: providerEntry(options.provider).name,
        description: options.description ?? "",
        endpoint,
        plan,
      });
      const handle = this.handleFor(record);
      await handle.save();
      await this.advanceShards(handle, adapter);
      return toBatchJob(record);
    } finally {
      await lock.release();
    }
  }

  /** Job IDs in the workspace, sorted. */
  async listJobs(): Promise<string[]> {
    await this.ready;
    return this.workspace.listJobIds();
  }

  /** The stored job record, or null when there is no such job. A corrupt record throws CorruptWorkspaceError. */
  async getJob(jobId: string): Promise<JobRecord | null> {
    assertValidJobId(jobId);
    await this.ready;
    return this.loadRecord(jobId);
  }

  /** Asks the provider for the status of every batch of the job and stores it. */
  async monitorBatch(jobId: string): Promise<BatchJob> {
    return this.withJob(jobId, async (handle, adapter) => {
      await this.refresh(handle, adapter);
      return toBatchJob(handle.record);
    });
  }

  /**
   * Finishes an interrupted submission: every shard whose batch was not recorded is looked up at the provider by
   * its tags and adopted, or created if the provider has none. Safe to call at any time.
   */
  async recover(jobId: string): Promise<BatchJob> {
    return this.withJob(jobId, async (handle, adapter) => {
      await this.advanceShards(handle, adapter);
      return toBatchJob(handle.record);
    });
  }

  /** Polls until the job has finished (completed, failed, expired or cancelled). */
  async waitForBatch(jobId: string, options: WaitOptions = {}): Promise<BatchJob> {
    const { pollIntervalMs: shortest, maxPollIntervalMs: longest } = checkWaitOptions(options);
    let interval = shortest;
    let last = "";
    for (;;) {
      options.signal?.throwIfAborted();
      const job = await this.monitorBatch(jobId);
      options.onStatus?.(job);
      if (isFinished(job.status)) return job;
      const progress = `${job.providerStatus}/${job.completedRequests}/${job.failedRequests}`;
      interval = progress === last ? Math.min(longest, Math.round(interval * 1.5)) : shortest;
      last = progress;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, interval);
        options.signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            reject(options.signal?.reason);
          },
          { once: true },
        );
      });
    }
  }

  /**
   * The job's results, one per request in request order. Served from the workspace after the first fetch; with
   * `forceRefresh` fetched from the provider again. Throws JobNotFinishedError while the job is still running.
   */
  async retrieveBatchResults(
    jobId: string,
    options: { forceRefresh?: boolean } = {},
  ): Promise<BatchResult[]> {
    const results: BatchResult[] = [];
    for await (const result of this.streamResults(jobId, options)) results.push(result);
    return results;
  }

  /** Like retrieveBatchResults, but yields results one at a time without holding them all in memory. */
  async *streamResults(jobId: string, options: { forceRefresh?: boolean } = {}): AsyncGenerator<BatchResult> {
    assertValidJobId(jobId);
    await this.ready;
    if (options.forceRefresh || !(await this.workspace.hasResults(jobId))) {
      await this.withJob(jobId, async (handle, adapter) => {
        // Another process may have fetched them while this one waited for the lock.
        if (!options.forceRefresh && (await this.workspace.hasResults(jobId))) return;
        await this.refresh(handle, adapter);
        if (!isFinished(handle.record.status)) throw new JobNotFinishedError(jobId, handle.record.status);
        await this.fetchResults(handle, adapter);
      });
    }
    yield* this.readStoredResults(jobId);
  }

  /** Results from the workspace only, or null when they have not been fetched. */
  async getResults(jobId: string): Promise<BatchResult[] | null> {
    assertValidJobId(jobId);
    await this.ready;
    if (!(await this.workspace.hasResults(jobId))) return null;
    const results: BatchResult[] = [];
    for await (const result of this.readStoredResults(jobId)) results.push(result);
    return results;
  }

  async hasResults(jobId: string): Promise<boolean> {
    assertValidJobId(jobId);
    await this.ready;
    return this.workspace.hasResults(jobId);
  }

  /** Asks the provider to cancel every unfinished batch of the job. True when the provider accepted. */
  async cancelBatch(jobId: string): Promise<boolean> {
    return this.withJob(jobId, async (handle, adapter) => {
      let accepted = false;
      for (const shard of handle.record.shards) {
        if (shard.state === "create_failed") continue;
        if (shard.state !== "created") {
          // Not created yet: it never will be. A shard mid-creation is resolved first so no batch is left running.
          if (shard.state === "creating") await adoptIfCreated(handle, adapter, shard.index);
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
        applyStatus(shard, await adapter.cancelBatch(shard.provider_batch_id), adapter.name);
        accepted = true;
      }
      await handle.save();
      return accepted;
    });
  }

  // ---- internals ----

  /** The provider's adapter; unknown providers and missing keys are refused here, before anything is sent. */
  private adapter(provider: unknown): Promise<ProviderAdapter> {
    const entry = providerEntry(provider);
    let adapter = this.adapters.get(entry.name);
    if (!adapter) {
      adapter = entry.create(
        resolveProviderConfig(entry, this.providerConfigs[entry.name], this.env, {
          ...(this.onRetry ? { onRetry: this.onRetry } : {}),
        }),
      );
      this.adapters.set(entry.name, adapter);
      adapter.catch(() => this.adapters.delete(entry.name));
    }
    return adapter;
  }

  /** The provider's limits, lowered where the configuration asks for smaller batches. */
  private limitsFor(adapter: ProviderAdapter): ProviderLimits {
    const config = this.providerConfigs[adapter.name as ProviderName];
    const lower = (limit: number, wanted: number | undefined) =>
      wanted !== undefined && Number.isInteger(wanted) && wanted > 0 ? Math.min(limit, wanted) : limit;
    return {
      ...adapter.limits,
      maxRequestsPerBatch: lower(adapter.limits.maxRequestsPerBatch, config?.maxRequestsPerBatch),
      maxBytesPerBatch: lower(adapter.limits.maxBytesPerBatch, config?.maxBytesPerBatch),
    };
  }

  private budgetFor(adapter: ProviderAdapter): TokenBudget | undefined {
    return tokenBudget(this.providerConfigs[adapter.name as ProviderName]?.enqueuedTokenBudget);
  }

  /** The records of every other job in the workspace (a corrupt record is skipped here: it is reported elsewhere). */
  private async otherRecords(jobId: string): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    for (const id of await this.workspace.listJobIds()) {
      if (id === jobId) continue;
      const record = await this.loadRecord(id).catch(() => null);
      if (record) records.push(record);
    }
    return records;
  }

  private handleFor(record: JobRecord): JobHandle {
    return new JobHandle(this.workspace, record, () => this.recordedBatchIds(record));
  }

  /** Batch IDs recorded by every job in the workspace. */
  private async recordedBatchIds(current: JobRecord): Promise<Set<string>> {
    const ids = batchIdsOf(current);
    for (const record of await this.otherRecords(current.job_id))
      for (const id of batchIdsOf(record)) ids.add(id);
    return ids;
  }

  private async loadRecord(jobId: string): Promise<JobRecord | null> {
    const raw = await this.workspace.readRecord(jobId);
    return raw ? parseJobRecord(raw, this.workspace.recordPath(jobId), providerEntry, jobId) : null;
  }

  /** Runs `work` on a job under its lock. */
  private async withJob<T>(
    jobId: string,
    work: (handle: JobHandle, adapter: ProviderAdapter) => Promise<T>,
  ): Promise<T> {
    assertValidJobId(jobId);
    await this.ready;
    const known = await this.loadRecord(jobId);
    if (!known) throw new JobNotFoundError(jobId);
    const adapter = await this.adapter(known.provider);
    const lock = await this.workspace.lockJob(jobId, this.lockOptions);
    try {
      const record = await this.loadRecord(jobId);
      if (!record) throw new JobNotFoundError(jobId);
      return await work(this.handleFor(record), adapter);
    } finally {
      await lock.release();
    }
  }

  /**
   * Sends every shard that is due to the provider. With an enqueued-token budget, shards that would take the
   * workspace's running batches past it wait for a later call (monitorBatch, waitForBatch, recover).
   */
  private async advanceShards(handle: JobHandle, adapter: ProviderAdapter): Promise<void> {
    const jobDir = this.workspace.jobDir(handle.record.job_id);
    let open = handle.record.shards.filter(
      (shard) => shard.state !== "created" && shard.state !== "create_failed",
    );
    const budget = this.budgetFor(adapter);
    if (budget && open.length > 0) {
      const records = [handle.record, ...(await this.otherRecords(handle.record.job_id))];
      open = admitShards(open, enqueuedTokens(records, adapter.name), budget);
    }
    await forEachLimited(open, this.submitConcurrency, (shard) =>
      advanceShard(handle, adapter, shard.index, jobDir),
    );
  }

  /** Finishes any interrupted submission, then polls every unfinished batch. */
  /**
   * Polls every unfinished batch, puts back shards whose batch was refused for a passing reason (enqueued-token
   * limit), and submits what is not submitted (an interrupted submission, or a shard due again).
   */
  private async refresh(handle: JobHandle, adapter: ProviderAdapter): Promise<void> {
    const watched = handle.record.shards.filter(
      (shard) => shard.state === "created" && shard.provider_batch_id !== null && !isFinished(shard.status),
    );
    // With several batches to watch, one list call usually covers them all.
    const listed =
      watched.length > 1 && adapter.getBatches
        ? await adapter.getBatches(
            watched.map((shard) => shard.provider_batch_id as string),
            Date.parse(handle.record.created_at),
          )
        : new Map<string, ProviderBatch>();
    for (const shard of watched) {
      const id = shard.provider_batch_id as string;
      applyStatus(shard, listed.get(id) ?? (await adapter.getBatch(id)), adapter.name);
      requeueIfPassingFailure(shard, this.requeueDelayMs);
    }
    await handle.save();
    if (handle.record.shards.some((shard) => shard.state !== "created" && shard.state !== "create_failed")) {
      await this.advanceShards(handle, adapter);
    }
  }

  private async fetchResults(handle: JobHandle, adapter: ProviderAdapter): Promise<void> {
    const record = handle.record;
    const jobDir = this.workspace.jobDir(record.job_id);
    if (record.submission_id === "") {
      // A job submitted by the Python Relay: no stored request list, so the provider's order is kept.
      await this.workspace.writeResults(record.job_id, unorderedResults(adapter, record.shards));
      return;
    }
    await checkOrderFile(join(jobDir, ORDER_FILE), record);
    const spills: ShardSpill[] = [];
    try {
      for (const shard of record.shards) {
        const spill = await spillShardResults({ adapter, shard, jobDir });
        spills.push(spill);
        shard.completed_requests = spill.succeeded;
        shard.failed_requests = shard.n_requests - spill.succeeded;
      }
      await this.workspace.writeResults(record.job_id, mergeSpilledResults(jobDir, spills));
    } finally {
      for (const spill of spills) await rm(spill.path, { force: true });
    }
    await handle.save();
  }

  /** The stored results, checked against the job: one per request, in request order (see jobs/verify.ts). */
  private async *readStoredResults(jobId: string): AsyncGenerator<BatchResult> {
    const record = await this.loadRecord(jobId);
    const stored = this.readResultsFile(jobId);
    if (!record) {
      yield* stored;
      return;
    }
    const jobDir = this.workspace.jobDir(jobId);
    yield* checkedResults(stored, { record, jobDir, resultsPath: this.workspace.resultsPath(jobId) });
  }

  private async *readResultsFile(jobId: string): AsyncGenerator<BatchResult> {
    let parseRecord: ((raw: unknown) => BatchResult | null) | undefined;
    for await (const element of this.workspace.readResults(jobId)) {
      if (isRelayResult(element)) {
        yield element;
        continue;
      }
      // A results file of the Python Relay holds the provider's raw records.
      if (!parseRecord) {
        const record = await this.loadRecord(jobId);
        const entry = providerEntry(record?.provider);
        parseRecord = (raw) => {
          const parsed = entry.parseRecord(raw);
          return parsed ? { id: parsed.customId, ...parsed.result } : null;
        };
      }
      const parsed = parseRecord(element);
      if (parsed) yield parsed;
    }
  }
}

export type { JobStatus };
