import type { JobStatus } from "../types.js";
import type { JobRecord } from "../workspace/job-record.js";

/** How far one provider batch of a job is. */
export interface ShardProgress {
  index: number;
  batchId: string | null;
  status: JobStatus;
  /** The provider's own status (null before the batch exists). */
  providerStatus: string | null;
  total: number;
  completed: number;
  failed: number;
  remaining: number;
  /** Every request has run and the provider is writing the results: not done yet. */
  finalizing: boolean;
}

/** How far a job is, after one status check, with an estimate of the time left from the rate seen so far. */
export interface JobProgress {
  jobId: string;
  status: JobStatus;
  providerStatus: string;
  total: number;
  completed: number;
  failed: number;
  remaining: number;
  /** Some batch is finalizing (its requests have run, its results are not ready). */
  finalizing: boolean;
  shards: ShardProgress[];
  /** Since the wait began. */
  elapsedMs: number;
  /** Requests finished per second since the wait began, once any have. */
  ratePerSecond: number | null;
  /** Time left at that rate; null until there is a rate, 0 once every request has run. */
  etaMs: number | null;
  checkedAt: string;
}

const isFinalizing = (providerStatus: string | null) =>
  providerStatus !== null && /finaliz/i.test(providerStatus);

/** Turns successive records of a job into progress reports, keeping the first one seen to measure the rate. */
export class ProgressTracker {
  private readonly startedAt = Date.now();
  private firstDone: number | null = null;

  report(record: JobRecord): JobProgress {
    const now = Date.now();
    const shards: ShardProgress[] = record.shards.map((shard) => ({
      index: shard.index,
      batchId: shard.provider_batch_id,
      status: shard.status,
      providerStatus: shard.provider_status,
      total: shard.n_requests,
      completed: shard.completed_requests,
      failed: shard.failed_requests,
      remaining: Math.max(0, shard.n_requests - shard.completed_requests - shard.failed_requests),
      finalizing: isFinalizing(shard.provider_status),
    }));
    const done = record.completed_requests + record.failed_requests;
    const remaining = Math.max(0, record.n_requests - done);
    this.firstDone ??= done;
    const elapsedMs = now - this.startedAt;
    const ran = done - this.firstDone;
    const ratePerSecond = ran > 0 && elapsedMs > 0 ? ran / (elapsedMs / 1000) : null;
    return {
      jobId: record.job_id,
      status: record.status,
      providerStatus: record.provider_status,
      total: record.n_requests,
      completed: record.completed_requests,
      failed: record.failed_requests,
      remaining,
      finalizing: shards.some((shard) => shard.finalizing),
      shards,
      elapsedMs,
      ratePerSecond,
      etaMs: remaining === 0 ? 0 : ratePerSecond ? Math.round((remaining / ratePerSecond) * 1000) : null,
      checkedAt: new Date(now).toISOString(),
    };
  }
}
