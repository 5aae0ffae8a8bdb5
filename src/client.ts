import { type CostEstimate, estimateCost } from "./cost/estimate.js";
import { type JobCost, jobCost } from "./cost/job-cost.js";
import {
  JobNotFinishedError,
  JobNotFoundError,
  RelayError,
  ValidationError,
  WaitTimeoutError,
} from "./errors.js";
import { cleanupJob } from "./jobs/cleanup.js";
import { type JobFilter, type JobListing, newestFirst, recordFilter, scanJobs } from "./jobs/listing.js";
import { checkClientOptions, checkWaitOptions } from "./jobs/options.js";
import type { JobHandle } from "./jobs/record.js";
import { toBatchJob } from "./jobs/record.js";
import { Retrieval, readStoredResults } from "./jobs/retrieval.js";
import { DEFAULT_RETRY_STATUSES, mergedResults, RETRYABLE_STATUSES, startRetry } from "./jobs/retry.js";
import { type PipelineSettings, pipelineSettings } from "./jobs/settings.js";
import { JobStore } from "./jobs/store.js";
import { Submission } from "./jobs/submission.js";
import { type JobProgress, ProgressTracker } from "./jobs/watch.js";
import { providerEntry, rememberConfiguredKeys, resolveProviderConfig } from "./providers/registry.js";
import type { RetryListener } from "./providers/shared/retry-notice.js";
import type { ProviderAdapter, ProviderConfig } from "./providers/types.js";
import {
  type BatchJob,
  type BatchRequest,
  type BatchResult,
  type EmbeddingRequest,
  isFinished,
  type ProviderName,
  type ResultStatus,
} from "./types.js";
import { assertValidJobId } from "./workspace/job-id.js";
import type { JobRecord } from "./workspace/job-record.js";
import type { LockOptions } from "./workspace/lock.js";
import { Workspace } from "./workspace/workspace.js";

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

interface SubmitCommon {
  jobId: string;
  provider: ProviderName;
  description?: string;
  /** Replace a finished job of the same ID (its stored results are deleted). */
  overwrite?: boolean;
  /** OpenAI: "/v1/chat/completions" (default) or "/v1/responses". */
  endpoint?: string;
}

/** A job of chat requests (the default), or of texts to embed (`kind: "embeddings"`). */
export type SubmitBatchOptions =
  | (SubmitCommon & { kind?: "chat"; requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest> })
  | (SubmitCommon & {
      kind: "embeddings";
      requests: Iterable<EmbeddingRequest> | AsyncIterable<EmbeddingRequest>;
    });

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
  /** Called after every status check with each shard's progress and an estimate of the time left. */
  onProgress?: (progress: JobProgress) => void;
  /** Give up (WaitTimeoutError, code wait_timeout) when the job has not finished after this long; it goes on. */
  timeoutMs?: number;
  /** Fetch the results into the workspace as soon as the job has finished. */
  fetchResults?: boolean;
  signal?: AbortSignal;
}

export interface ResultsOptions {
  /** Fetch from the provider again, replacing the stored results. */
  forceRefresh?: boolean;
  /**
   * Along the job's retry chain (retryFailed): one result per original request, in order, each from the latest
   * attempt that has one, with `attempt` saying which job it came from.
   */
  merged?: boolean;
}

export interface RetryOptions {
  /** The follow-up job's ID. Default `<job>-retry-<n>`. */
  jobId?: string;
  /** Which results to run again. Default failed, expired and cancelled. */
  statuses?: readonly ResultStatus[];
  description?: string;
  /** Wait for the follow-up job to finish (with these options, if an object). */
  wait?: boolean | WaitOptions;
}

/** How a job would be split into provider batches (planBatch). */
export interface BatchPlan {
  provider: ProviderName;
  endpoint: string | null;
  nRequests: number;
  shards: {
    index: number;
    model: string | null;
    nRequests: number;
    bytes: number;
    estimatedTokens: number;
  }[];
}

export type { JobCost };

export interface CleanupReport {
  jobId: string;
  /** Provider-side files (or batches) deleted. */
  deleted: string[];
}

/**
 * Submits, watches and collects LLM batch jobs, keeping each job and its results in a workspace directory that
 * any later process can pick up. A facade: the work is done by the pipelines in jobs/ (Submission, Retrieval) on
 * the records of a JobStore.
 */
export class RelayClient {
  readonly directory: string;
  private readonly workspace: Workspace;
  private readonly store: JobStore;
  private readonly settings: PipelineSettings;
  private readonly providerConfigs: Partial<Record<ProviderName, ProviderConfig>>;
  private readonly adapters = new Map<ProviderName, Promise<ProviderAdapter>>();
  private readonly env: NodeJS.ProcessEnv;
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
    this.store = new JobStore(this.workspace, options.lock);
    this.providerConfigs = options.providers ?? {};
    this.settings = pipelineSettings({
      providers: this.providerConfigs,
      submitConcurrency: checked.submitConcurrency,
      requeueDelayMs: checked.requeueDelayMs,
      maxRequestsPerJob: checked.maxRequestsPerJob,
      maxBytesPerJob: checked.maxBytesPerJob,
    });
    this.env = options.env ?? process.env;
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
    if (options.kind !== undefined && options.kind !== "chat" && options.kind !== "embeddings") {
      throw new ValidationError(`kind must be "chat" or "embeddings", not ${JSON.stringify(options.kind)}.`);
    }
    const adapter = await this.adapter(options.provider);
    const embeddings = options.kind === "embeddings";
    const endpoint =
      embeddings &&
      adapter.embeddingsEndpoint &&
      (options.endpoint ?? adapter.embeddingsEndpoint) === adapter.embeddingsEndpoint
        ? adapter.embeddingsEndpoint
        : adapter.checkEndpoint(options.endpoint ?? adapter.defaultEndpoint);
    await this.ready;
    await this.workspace.assertWritable();
    const common = {
      jobId,
      provider: providerEntry(options.provider).name,
      description: options.description ?? "",
      endpoint,
      overwrite: options.overwrite ?? false,
    };
    const record = await Submission.start(
      this.store,
      adapter,
      this.settings,
      options.kind === "embeddings"
        ? { ...common, kind: "embeddings", embeddings: options.requests }
        : { ...common, kind: "chat", requests: options.requests },
    );
    return toBatchJob(record);
  }

  /**
   * How `submitBatch` would split the requests into provider batches, after validating and encoding them exactly as
   * it would; nothing is sent and nothing stored changes (for `relay submit --dry-run`).
   */
  async planBatch(options: {
    requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>;
    provider: ProviderName;
    endpoint?: string;
  }): Promise<BatchPlan> {
    const adapter = await this.adapter(options.provider);
    const endpoint = adapter.checkEndpoint(options.endpoint ?? adapter.defaultEndpoint);
    await this.ready;
    await this.workspace.assertWritable();
    const plan = await Submission.dryRun(this.store, adapter, this.settings, {
      requests: options.requests,
      endpoint,
    });
    return {
      provider: providerEntry(options.provider).name,
      endpoint,
      nRequests: plan.nRequests,
      shards: plan.shards.map((shard) => ({
        index: shard.index,
        model: shard.model,
        nRequests: shard.nRequests,
        bytes: shard.bytes,
        estimatedTokens: shard.tokens,
      })),
    };
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
    return this.store.load(jobId);
  }

  /** Asks the provider for the status of every batch of the job and stores it. */
  async monitorBatch(jobId: string): Promise<BatchJob> {
    return this.withSubmission(jobId, async (submission) => {
      await submission.refresh();
      return toBatchJob(submission.record);
    });
  }

  /**
   * Finishes an interrupted submission: every shard whose batch was not recorded is looked up at the provider by
   * its tags and adopted, or created if the provider has none. Safe to call at any time.
   */
  async recover(jobId: string): Promise<BatchJob> {
    return this.withSubmission(jobId, async (submission) => {
      await submission.advance();
      return toBatchJob(submission.record);
    });
  }

  /** Polls until the job has finished (completed, failed, expired or cancelled). */
  async waitForBatch(jobId: string, options: WaitOptions = {}): Promise<BatchJob> {
    const { pollIntervalMs: shortest, maxPollIntervalMs: longest } = checkWaitOptions(options);
    const deadline =
      options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    const tracker = new ProgressTracker();
    let interval = shortest;
    let last = "";
    for (;;) {
      options.signal?.throwIfAborted();
      const { job, record } = await this.withSubmission(jobId, async (submission) => {
        await submission.refresh();
        return { job: toBatchJob(submission.record), record: submission.record };
      });
      options.onStatus?.(job);
      options.onProgress?.(tracker.report(record));
      if (isFinished(job.status)) {
        if (options.fetchResults) await this.ensureResults(jobId);
        return job;
      }
      if (Date.now() >= deadline) throw new WaitTimeoutError(jobId, options.timeoutMs ?? 0, job.status);
      const progress = `${job.providerStatus}/${job.completedRequests}/${job.failedRequests}`;
      interval = progress === last ? Math.min(longest, Math.round(interval * 1.5)) : shortest;
      last = progress;
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), options.signal);
    }
  }

  /**
   * The job's results, one per request in request order. Served from the workspace after the first fetch; with
   * `forceRefresh` fetched from the provider again. Throws JobNotFinishedError while the job is still running.
   */
  async retrieveBatchResults(jobId: string, options: ResultsOptions = {}): Promise<BatchResult[]> {
    const results: BatchResult[] = [];
    for await (const result of this.streamResults(jobId, options)) results.push(result);
    return results;
  }

  /**
   * Like retrieveBatchResults, but yields results one at a time without holding them all in memory. On the first
   * fetch they are handed out as they are stored, and the job's lock is held until the loop ends: leave it with
   * `break` or `return` (as `for await` does), never by dropping the iterator half-read.
   */
  async *streamResults(jobId: string, options: ResultsOptions = {}): AsyncGenerator<BatchResult> {
    if (options.merged) {
      const forceRefresh = options.forceRefresh ?? false;
      yield* mergedResults(this.store, jobId, (id) => this.streamResults(id, { forceRefresh }));
      return;
    }
    const forceRefresh = options.forceRefresh ?? false;
    assertValidJobId(jobId);
    await this.ready;
    if (!forceRefresh && (await this.workspace.hasResults(jobId))) {
      yield* readStoredResults(this.store, jobId);
      return;
    }
    // Fetched, stored and handed out in one pass, under the job's lock until the caller has read them all.
    yield* this.store.streamWithJob(jobId, (job) => this.fetchedResults(job, forceRefresh));
  }

  private async *fetchedResults(job: JobHandle, forceRefresh: boolean): AsyncGenerator<BatchResult> {
    const jobId = job.record.job_id;
    // Another process may have fetched them while this one waited for the lock.
    if (!forceRefresh && (await this.workspace.hasResults(jobId))) {
      yield* readStoredResults(this.store, jobId);
      return;
    }
    const adapter = await this.adapter(job.record.provider);
    await this.submission(job, adapter).refresh();
    if (!isFinished(job.record.status)) throw new JobNotFinishedError(jobId, job.record.status);
    yield* new Retrieval(job, adapter).stream();
  }

  /** Fetches a finished job's results into the workspace unless they are there already. */
  private async ensureResults(jobId: string, forceRefresh = false): Promise<void> {
    assertValidJobId(jobId);
    await this.ready;
    if (forceRefresh || !(await this.workspace.hasResults(jobId))) {
      await this.withJob(jobId, async (job, adapter) => {
        // Another process may have fetched them while this one waited for the lock.
        if (!forceRefresh && (await this.workspace.hasResults(jobId))) return;
        await this.submission(job, adapter).refresh();
        if (!isFinished(job.record.status)) throw new JobNotFinishedError(jobId, job.record.status);
        await new Retrieval(job, adapter).fetch();
      });
    }
  }

  /** Results from the workspace only, or null when they have not been fetched. */
  async getResults(jobId: string): Promise<BatchResult[] | null> {
    assertValidJobId(jobId);
    await this.ready;
    if (!(await this.workspace.hasResults(jobId))) return null;
    const results: BatchResult[] = [];
    for await (const result of readStoredResults(this.store, jobId)) results.push(result);
    return results;
  }

  async hasResults(jobId: string): Promise<boolean> {
    assertValidJobId(jobId);
    await this.ready;
    return this.workspace.hasResults(jobId);
  }

  /** Asks the provider to cancel every unfinished batch of the job. True when the provider accepted. */
  async cancelBatch(jobId: string): Promise<boolean> {
    return this.withSubmission(jobId, (submission) => submission.cancel());
  }

  /**
   * A follow-up job that runs again exactly the requests of a finished job whose results have the given statuses
   * (default failed, expired, cancelled), as they were first sent. The two are linked both ways in their records
   * (`parent_job_id`, `retry_job_ids`); `streamResults(jobId, { merged: true })` lays the new results over the old.
   * A job with nothing to retry is an error (code nothing_to_retry).
   */
  async retryFailed(jobId: string, options: RetryOptions = {}): Promise<BatchJob> {
    const statuses = new Set<string>(options.statuses ?? DEFAULT_RETRY_STATUSES);
    for (const status of statuses) {
      if (!RETRYABLE_STATUSES.has(status)) {
        throw new ValidationError(
          `statuses: "${status}" is not a result status that can be retried (${[...RETRYABLE_STATUSES].join(", ")}).`,
        );
      }
    }
    const parent = await this.getJob(jobId);
    if (!parent) throw new JobNotFoundError(jobId);
    if (!isFinished(parent.status)) throw new JobNotFinishedError(jobId, parent.status);
    await this.ensureResults(jobId);
    const adapter = await this.adapter(parent.provider);
    const child = await startRetry(this.store, adapter, this.settings, parent, {
      statuses,
      jobId: options.jobId,
      description: options.description,
    });
    if (options.wait) return this.waitForBatch(child.job_id, options.wait === true ? {} : options.wait);
    return toBatchJob(child);
  }

  /**
   * The records of the workspace's jobs that match the filter (status, provider, submitted since/until, text in
   * the ID or description), newest first. Records that cannot be read are left out (see scanJobs).
   */
  async getAllJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const matches = recordFilter(filter);
    await this.ready;
    return (await scanJobs(this.store))
      .flatMap((listing) => (listing.record && matches(listing.record) ? [listing.record] : []))
      .sort(newestFirst);
  }

  /** Every job of the workspace with its record, or with the error that kept it from being read. */
  async scanJobs(): Promise<JobListing[]> {
    await this.ready;
    return scanJobs(this.store);
  }

  /**
   * What requests would cost at the provider's batch prices, before anything is sent: prompt tokens counted by the
   * model's tokenizer where Relay has one (OpenAI's), else approximated; output at each request's maxTokens, or
   * `outputTokensPerRequest` (default 256) for requests without one. Unknown models cost null and are named.
   */
  async estimateCost(options: {
    requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>;
    provider: ProviderName;
    outputTokensPerRequest?: number;
  }): Promise<CostEstimate> {
    return estimateCost(providerEntry(options.provider), options.requests, options);
  }

  /** What a job cost, from the usage in its stored results, at batch prices (cached input priced as cached). */
  async jobCost(jobId: string): Promise<JobCost> {
    const record = await this.getJob(jobId);
    if (!record) throw new JobNotFoundError(jobId);
    return jobCost(this.store, record);
  }

  /**
   * Deletes what the provider keeps for the job that Relay no longer needs (uploaded input files, result files, or
   * Anthropic's batches), once the results are stored in the workspace; never before. Provider storage is limited
   * (e.g. 500 files on an Azure resource). Safe to call again.
   */
  async cleanup(jobId: string): Promise<CleanupReport> {
    assertValidJobId(jobId);
    await this.ready;
    if (!(await this.store.load(jobId))) throw new JobNotFoundError(jobId);
    if (!(await this.workspace.hasResults(jobId))) {
      throw new RelayError(
        "results_not_stored",
        `Job "${jobId}" has no stored results yet; retrieve them first (cleanup never deletes what they need).`,
      );
    }
    return this.withJob(jobId, async (job, adapter) => ({ jobId, deleted: await cleanupJob(job, adapter) }));
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

  private submission(job: JobHandle, adapter: ProviderAdapter): Submission {
    return new Submission(job, adapter, this.store, this.settings);
  }

  /** Runs `work` on a stored job under its lock, with its provider's adapter. */
  private async withJob<T>(
    jobId: string,
    work: (job: JobHandle, adapter: ProviderAdapter) => Promise<T>,
  ): Promise<T> {
    assertValidJobId(jobId);
    await this.ready;
    return this.store.withJob(jobId, async (job) => work(job, await this.adapter(job.record.provider)));
  }

  private withSubmission<T>(jobId: string, work: (submission: Submission) => Promise<T>): Promise<T> {
    return this.withJob(jobId, (job, adapter) => work(this.submission(job, adapter)));
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
