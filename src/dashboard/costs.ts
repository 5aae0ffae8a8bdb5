import type { JobCost, RelayClient } from "../client.js";
import type { IndexedJob } from "../jobs/job-index.js";
import type { JobFileStamps } from "../workspace/workspace.js";

/**
 * Whether a cost was counted from the files the entry was read from: the index keeps an entry's stamps object for
 * as long as its files do not change, and makes a new one when they do.
 */
const sameFiles = (counted: JobFileStamps, entry: IndexedJob) => counted === entry.stamps;

/**
 * What each job with stored results actually cost (client.jobCost), counted once per version of its files and in
 * the background, one job at a time, so that a table over thousands of jobs never waits for their results to be read.
 */
export class CostCache {
  private readonly known = new Map<string, { stamps: JobFileStamps; cost: JobCost | null }>();
  private readonly queue = new Map<string, IndexedJob>();
  private readonly waiting = new Map<string, Promise<void>>();
  private running = false;
  private closed = false;
  /** Increases whenever a job's cost becomes known. */
  version = 0;

  constructor(private readonly client: RelayClient) {}

  /** The job's counted cost, or undefined while it is not counted for its current files. */
  lookup(entry: IndexedJob): { costUsd: number | null } | undefined {
    const found = this.known.get(entry.jobId);
    if (!found || !sameFiles(found.stamps, entry)) return undefined;
    return { costUsd: found.cost?.costUsd ?? null };
  }

  /** The full cost report, counted now if needed, giving up after `waitMs` (then undefined: ask again later). */
  async report(entry: IndexedJob, waitMs: number): Promise<JobCost | null | undefined> {
    const found = this.known.get(entry.jobId);
    if (found && sameFiles(found.stamps, entry)) return found.cost;
    this.queue.delete(entry.jobId);
    let counting = this.waiting.get(entry.jobId);
    if (!counting) {
      counting = this.count(entry).finally(() => this.waiting.delete(entry.jobId));
      this.waiting.set(entry.jobId, counting);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([counting, timeout]);
    clearTimeout(timer);
    const after = this.known.get(entry.jobId);
    return after && sameFiles(after.stamps, entry) ? after.cost : undefined;
  }

  /** Queues the jobs whose stored results are not counted yet. */
  want(entries: Iterable<IndexedJob>): void {
    for (const entry of entries) {
      if (!entry.record || !entry.stamps.results || this.lookup(entry) || this.waiting.has(entry.jobId))
        continue;
      this.queue.set(entry.jobId, entry);
    }
    if (!this.running && this.queue.size > 0) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed) {
        const next = this.queue.values().next();
        if (next.done) break;
        const entry = next.value;
        this.queue.delete(entry.jobId);
        if (this.lookup(entry)) continue;
        await this.count(entry);
        // Lets requests in between two jobs.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }

  private async count(entry: IndexedJob): Promise<void> {
    let cost: JobCost | null;
    try {
      cost = await this.client.jobCost(entry.jobId);
    } catch {
      // Unreadable results have no cost; the results view says why.
      cost = null;
    }
    this.known.set(entry.jobId, { stamps: entry.stamps, cost });
    this.version += 1;
  }
}
