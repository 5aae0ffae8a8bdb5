import { type JobProgress, ProgressTracker } from "../jobs/watch.js";
import { isFinished } from "../types.js";
import type { JobRecord } from "../workspace/job-record.js";

/** How far a job was at one moment the dashboard saw its record change. */
export interface ProgressSample {
  at: string;
  completed: number;
  failed: number;
}

const MAX_JOBS = 500;
const MAX_SAMPLES = 400;

interface Watched {
  tracker: ProgressTracker;
  samples: ProgressSample[];
  progress: JobProgress;
}

/**
 * The progress of the running jobs seen while the dashboard runs: a sample each time a job's counts change (for the
 * progress-over-time picture) and, from the rate seen, an estimate of the time left. Kept in memory only.
 */
export class ProgressHistory {
  private readonly jobs = new Map<string, Watched>();

  /** Takes note of a job's record as just read: jobs are followed from the first time they are seen running. */
  observe(record: JobRecord): void {
    let watched = this.jobs.get(record.job_id);
    if (!watched) {
      if (isFinished(record.status)) return;
      const tracker = new ProgressTracker();
      watched = { tracker, samples: [], progress: tracker.report(record) };
      this.jobs.set(record.job_id, watched);
      while (this.jobs.size > MAX_JOBS) this.jobs.delete(this.jobs.keys().next().value as string);
    } else watched.progress = watched.tracker.report(record);
    const last = watched.samples.at(-1);
    if (!last || last.completed !== record.completed_requests || last.failed !== record.failed_requests) {
      watched.samples.push({
        at: record.updated_at,
        completed: record.completed_requests,
        failed: record.failed_requests,
      });
      // Every other sample is dropped when full: the picture keeps its whole span at a coarser grain.
      if (watched.samples.length > MAX_SAMPLES)
        watched.samples = watched.samples.filter((_, index) => index % 2 === 0);
    }
  }

  of(jobId: string): { samples: ProgressSample[]; progress: JobProgress | null } {
    const watched = this.jobs.get(jobId);
    return { samples: watched?.samples ?? [], progress: watched?.progress ?? null };
  }
}
