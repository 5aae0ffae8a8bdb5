import type { JobCost } from "../client.js";
import type { IndexedJob, JobIndex } from "../jobs/job-index.js";
import { type JobProgress, ProgressTracker, type ShardProgress } from "../jobs/watch.js";
import { isFinished, type JobStatus } from "../types.js";
import type { JobRecord, ShardState, StoredCostEstimate } from "../workspace/job-record.js";
import type { ProgressSample } from "./history.js";
import { type JobSummary, summarise } from "./job-table.js";
import type { PollState } from "./poller.js";

/** A shard as the job view shows it: its progress, and what its record says besides. */
export interface ShardView extends ShardProgress {
  model: string | null;
  state: ShardState;
  error: { code?: string; message: string } | null;
  resultsExpireAt: string | null;
  /** A batch refused for a passing reason is sent again at this time. */
  retryAt: string | null;
  attempt: number;
  updatedAt: string;
  cleanedAt: string | null;
}

export interface ChainLink {
  jobId: string;
  /** Null when the job's record is missing or unreadable. */
  status: JobStatus | null;
  nRequests: number | null;
}

export interface JobDetail {
  job: JobSummary & {
    description: string;
    endpoint: string | null;
    createdAt: string;
    updatedAt: string;
  };
  progress: Pick<
    JobProgress,
    "total" | "completed" | "failed" | "remaining" | "finalizing" | "etaMs" | "ratePerSecond"
  >;
  shards: ShardView[];
  history: ProgressSample[];
  cost: {
    estimate: StoredCostEstimate | null;
    actual: Pick<
      JobCost,
      | "costUsd"
      | "inputTokens"
      | "outputTokens"
      | "byModel"
      | "unknownModels"
      | "pricesAsOf"
      | "batchDiscount"
    > | null;
    /** The results are stored but not counted yet: ask again. */
    pending: boolean;
  };
  chain: {
    parent: ChainLink | null;
    followUps: ChainLink[];
    /** Every job of the chain from here down has its results stored: they can be read merged. */
    mergedAvailable: boolean;
  };
  poll: PollState | null;
  actions: { refresh: boolean; cancel: boolean; retry: boolean };
}

const DESCRIPTION_LIMIT = 20_000;

function link(index: JobIndex, jobId: string): ChainLink {
  const record = index.get(jobId)?.record;
  return { jobId, status: record?.status ?? null, nRequests: record?.n_requests ?? null };
}

function shardViews(record: JobRecord, progress: JobProgress): ShardView[] {
  return record.shards.map((shard, position) => {
    const shown = progress.shards[position];
    return {
      index: shard.index,
      model: shard.model,
      state: shard.state,
      batchId: shard.provider_batch_id,
      status: shard.status,
      providerStatus: shard.provider_status,
      total: shard.n_requests,
      completed: shard.completed_requests,
      failed: shard.failed_requests,
      remaining:
        shown?.remaining ?? Math.max(0, shard.n_requests - shard.completed_requests - shard.failed_requests),
      finalizing: shown?.finalizing ?? false,
      error: shard.error,
      resultsExpireAt: shard.results_expire_at ?? null,
      retryAt: shard.retry_at,
      attempt: shard.attempt,
      updatedAt: shard.updated_at,
      cleanedAt: shard.cleaned_at ?? null,
    };
  });
}

/** Everything the job view shows, from the job's record as indexed and what the dashboard knows beside it. */
export function jobDetail(options: {
  entry: IndexedJob & { record: JobRecord };
  index: JobIndex;
  watched: { samples: ProgressSample[]; progress: JobProgress | null };
  cost: JobCost | null | undefined;
  poll: PollState | null;
  readOnly: boolean;
  mergedAvailable: boolean;
}): JobDetail {
  const { entry, index, watched, cost } = options;
  const record = entry.record;
  const progress =
    watched.progress && watched.progress.checkedAt >= record.updated_at
      ? watched.progress
      : new ProgressTracker().report(record);
  const summary = summarise(entry, () =>
    cost === undefined ? undefined : { costUsd: cost?.costUsd ?? null },
  );
  const finished = isFinished(record.status);
  const description = typeof record.description === "string" ? record.description : "";
  return {
    job: {
      ...(summary as JobSummary),
      description: description.slice(0, DESCRIPTION_LIMIT),
      descriptionTruncated: description.length > DESCRIPTION_LIMIT,
      endpoint: record.endpoint,
      createdAt: record.created_at,
      updatedAt: record.updated_at,
    },
    progress: {
      total: progress.total,
      completed: progress.completed,
      failed: progress.failed,
      remaining: progress.remaining,
      finalizing: progress.finalizing,
      etaMs: progress.etaMs,
      ratePerSecond: progress.ratePerSecond,
    },
    shards: shardViews(record, progress),
    history: watched.samples,
    cost: {
      estimate: record.estimated_cost ?? null,
      actual: cost
        ? {
            costUsd: cost.costUsd,
            inputTokens: cost.inputTokens,
            outputTokens: cost.outputTokens,
            byModel: cost.byModel,
            unknownModels: cost.unknownModels,
            pricesAsOf: cost.pricesAsOf,
            batchDiscount: cost.batchDiscount,
          }
        : null,
      pending: entry.stamps.results !== null && cost === undefined,
    },
    chain: {
      parent: record.parent_job_id ? link(index, record.parent_job_id) : null,
      followUps: (record.retry_job_ids ?? []).map((jobId) => link(index, jobId)),
      mergedAvailable: options.mergedAvailable && (record.retry_job_ids?.length ?? 0) > 0,
    },
    poll: options.poll,
    actions: {
      refresh: !options.readOnly,
      cancel: !options.readOnly && !finished,
      // Jobs of the Python Relay kept no request lines to send again.
      retry:
        !options.readOnly &&
        finished &&
        record.submission_id !== "" &&
        record.completed_requests < record.n_requests,
    },
  };
}
