import type { RelayClient } from "../client.js";
import { RelayError } from "../errors.js";
import type { IndexedJob } from "../jobs/job-index.js";
import { isFinished } from "../types.js";

/** What the dashboard last heard from the provider about a job. */
export interface PollState {
  checkedAt: string | null;
  nextCheckAt: string;
  error: { code: string; message: string } | null;
}

interface Schedule {
  dueAt: number;
  intervalMs: number;
  failures: number;
  lastProgress: string;
  state: PollState;
}

const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Asks the provider about the workspace's unfinished jobs, one at a time, as waitForBatch would: every interval
 * while a job moves, less often while it does not or while its provider cannot be reached. A job that has just
 * finished has its results fetched into the workspace, so that they are kept before the provider's deadline.
 */
export class ProviderPoller {
  private readonly schedules = new Map<string, Schedule>();
  private pass: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly client: RelayClient,
    private readonly intervalMs: number,
    /** Called after the poller wrote a job (so that the index reads it again). */
    private readonly onWrote: (jobId: string) => void,
  ) {}

  state(jobId: string): PollState | null {
    return this.schedules.get(jobId)?.state ?? null;
  }

  /** Checks the unfinished jobs that are due. Returns at once if a pass is still running. */
  check(entries: readonly IndexedJob[]): Promise<void> {
    if (this.pass || this.stopped) return Promise.resolve();
    this.pass = this.checkDue(entries).finally(() => {
      this.pass = null;
    });
    return this.pass;
  }

  /** Stops polling, once the check under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pass;
  }

  private async checkDue(entries: readonly IndexedJob[]): Promise<void> {
    const now = Date.now();
    const due: IndexedJob[] = [];
    for (const entry of entries) {
      const record = entry.record;
      if (!record) continue;
      const schedule = this.schedules.get(entry.jobId);
      // A job seen finishing whose results could not be fetched yet is tried again; others are left as they are.
      if (isFinished(record.status) && (entry.stamps.results || !schedule)) continue;
      if (!schedule || schedule.dueAt <= now) due.push(entry);
    }
    due.sort((a, b) => (this.schedules.get(a.jobId)?.dueAt ?? 0) - (this.schedules.get(b.jobId)?.dueAt ?? 0));
    for (const entry of due) {
      if (this.stopped) break;
      await this.poll(entry);
    }
  }

  private async poll(entry: IndexedJob): Promise<void> {
    const schedule: Schedule = this.schedules.get(entry.jobId) ?? {
      dueAt: 0,
      intervalMs: this.intervalMs,
      failures: 0,
      lastProgress: "",
      state: { checkedAt: null, nextCheckAt: "", error: null },
    };
    this.schedules.set(entry.jobId, schedule);
    try {
      const job = await this.client.monitorBatch(entry.jobId);
      this.onWrote(entry.jobId);
      if (isFinished(job.status) && !(await this.client.hasResults(entry.jobId))) {
        for await (const _ of this.client.streamResults(entry.jobId)) {
          // Fetching is the point; the results are read by whoever looks.
        }
        this.onWrote(entry.jobId);
      }
      const progress = `${job.providerStatus}/${job.completedRequests}/${job.failedRequests}`;
      schedule.intervalMs =
        progress === schedule.lastProgress
          ? Math.min(this.intervalMs * 10, Math.round(schedule.intervalMs * 1.5))
          : this.intervalMs;
      schedule.lastProgress = progress;
      schedule.failures = 0;
      schedule.state.error = null;
    } catch (error) {
      schedule.failures += 1;
      schedule.intervalMs = Math.min(MAX_BACKOFF_MS, this.intervalMs * 2 ** schedule.failures);
      schedule.state.error =
        error instanceof RelayError
          ? { code: error.code, message: error.message }
          : { code: "internal_error", message: String((error as Error)?.message ?? error) };
    }
    const now = Date.now();
    schedule.dueAt = now + schedule.intervalMs;
    schedule.state.checkedAt = new Date(now).toISOString();
    schedule.state.nextCheckAt = new Date(schedule.dueAt).toISOString();
  }
}
