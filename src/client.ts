import { JobNotFinishedError, ValidationError } from "./errors.js";
import type { JobHandle } from "./jobs/record.js";
import { toBatchJob } from "./jobs/record.js";
import { Retrieval, readStoredResults } from "./jobs/retrieval.js";
import { type PipelineSettings, pipelineSettings } from "./jobs/settings.js";
import { JobStore } from "./jobs/store.js";
import { Submission } from "./jobs/submission.js";
import { providerEntry, resolveProviderConfig } from "./providers/registry.js";
import type { ProviderAdapter, ProviderConfig } from "./providers/types.js";
import {
  type BatchJob,
  type BatchRequest,
  type BatchResult,
  isFinished,
  type ProviderName,
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
  private readonly ready: Promise<void>;

  constructor(options: RelayClientOptions) {
    if (!options || typeof options.directory !== "string" || options.directory.trim() === "") {
      throw new ValidationError(
        'new RelayClient() needs a workspace directory: new RelayClient({ directory: "my_jobs" }).',
      );
    }
    this.workspace = new Workspace(options.directory);
    this.directory = this.workspace.directory;
    this.store = new JobStore(this.workspace, options.lock);
    this.providerConfigs = options.providers ?? {};
    this.settings = pipelineSettings({
      providers: this.providerConfigs,
      submitConcurrency: options.submitConcurrency,
      requeueDelayMs: options.requeueDelayMs,
    });
    this.env = options.env ?? process.env;
    // A directory that cannot be created is reported by the first call that needs to write (workspace_not_writable).
    this.ready = this.workspace.ensure().catch(() => {});
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
    const record = await Submission.start(this.store, adapter, this.settings, {
      jobId,
      provider: providerEntry(options.provider).name,
      requests,
      description: options.description ?? "",
      endpoint,
      overwrite: options.overwrite ?? false,
    });
    return toBatchJob(record);
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
    const shortest = options.pollIntervalMs ?? 30_000;
    const longest = Math.max(shortest, options.maxPollIntervalMs ?? 10 * 60_000);
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
      await sleep(interval, options.signal);
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
      await this.withJob(jobId, async (job, adapter) => {
        // Another process may have fetched them while this one waited for the lock.
        if (!options.forceRefresh && (await this.workspace.hasResults(jobId))) return;
        await this.submission(job, adapter).refresh();
        if (!isFinished(job.record.status)) throw new JobNotFinishedError(jobId, job.record.status);
        await new Retrieval(job, adapter).fetch();
      });
    }
    yield* readStoredResults(this.store, jobId);
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

  // ---- internals ----

  /** The provider's adapter; unknown providers and missing keys are refused here, before anything is sent. */
  private adapter(provider: unknown): Promise<ProviderAdapter> {
    const entry = providerEntry(provider);
    let adapter = this.adapters.get(entry.name);
    if (!adapter) {
      adapter = entry.create(resolveProviderConfig(entry, this.providerConfigs[entry.name], this.env));
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
