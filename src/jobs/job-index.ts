import { CorruptWorkspaceError, RelayError } from "../errors.js";
import { type JobFileStamps, sameStamp } from "../workspace/workspace.js";
import type { JobListing } from "./listing.js";
import type { JobStore } from "./store.js";

/** A job of the index: its listing (record or error) and the stamps of the files it was read from. */
export interface IndexedJob extends JobListing {
  stamps: JobFileStamps;
  /** The index version at which this entry last changed. */
  version: number;
}

export interface JobIndexOptions {
  /**
   * Watch the directory for writes (default true). Without a watch, every refresh compares the directory's stamp
   * and, when it moved, every file's.
   */
  watch?: boolean;
  /** Every file's stamp is compared at least this often, for writes a watch can miss. Default 60 s. */
  rescanIntervalMs?: number;
}

const STAT_BATCH = 64;

/**
 * Every job of a workspace, read once and kept: a refresh reads again only the records whose file changed (by
 * modification time, size and inode), learnt from a watch on the directory or, without one, by comparing stamps.
 * What scanJobs returns, without reading every record each time.
 */
export class JobIndex {
  private readonly entries = new Map<string, IndexedJob>();
  private readonly removed = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly rescanIntervalMs: number;
  /** Job IDs in order; rebuilt only when a job is added or removed. */
  private sortedIds: string[] | null = null;
  /** list()'s answer, until an entry changes. */
  private listed: readonly IndexedJob[] | null = null;
  private watcher: { close(): void } | null = null;
  private built = false;
  private rescanNeeded = false;
  private lastDirectoryStamp: number | null = null;
  private lastFullScanAt = 0;
  private inFlight: Promise<void> | null = null;
  private closed = false;
  /** Increases whenever an entry is added, changed or removed. */
  version = 0;

  constructor(
    private readonly store: JobStore,
    private readonly options: JobIndexOptions = {},
  ) {
    this.rescanIntervalMs = options.rescanIntervalMs ?? 60_000;
  }

  /** Brings the index up to date with the directory. Concurrent calls share the work. */
  async refresh(): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => {});
    this.inFlight ??= this.update().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Every job, sorted by ID. */
  list(): readonly IndexedJob[] {
    this.sortedIds ??= [...this.entries.keys()].sort();
    this.listed ??= this.sortedIds.map((jobId) => this.entries.get(jobId) as IndexedJob);
    return this.listed;
  }

  get(jobId: string): IndexedJob | undefined {
    return this.entries.get(jobId);
  }

  /** The jobs added, changed or removed after `version`. */
  changedSince(version: number): string[] {
    const changed: string[] = [];
    for (const entry of this.entries.values()) if (entry.version > version) changed.push(entry.jobId);
    for (const [jobId, at] of this.removed) if (at > version) changed.push(jobId);
    return changed;
  }

  /** Marks a job as possibly changed (after writing it), to be read again by the next refresh. */
  invalidate(jobId: string): void {
    this.dirty.add(jobId);
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
  }

  private async update(): Promise<void> {
    const { workspace } = this.store;
    if (!this.built && this.options.watch !== false && !this.closed) {
      // Watching first: a write during the first scan is then seen by the next refresh.
      this.watcher = workspace.watchJobFiles(
        (jobId) => {
          if (jobId === null) this.rescanNeeded = true;
          else this.dirty.add(jobId);
        },
        () => {
          this.watcher = null;
          this.rescanNeeded = true;
        },
      );
    }
    const startedAt = Date.now();
    const directoryStamp = await workspace.directoryStamp();
    const fullScan =
      !this.built ||
      this.rescanNeeded ||
      startedAt - this.lastFullScanAt >= this.rescanIntervalMs ||
      (this.watcher === null && directoryStamp !== this.lastDirectoryStamp);
    const changes: [string, JobFileStamps][] = [];
    let gone: string[] = [];
    if (fullScan) {
      this.rescanNeeded = false;
      this.dirty.clear();
      const stamps = await workspace.jobFileStamps();
      for (const [jobId, found] of stamps) {
        const entry = this.entries.get(jobId);
        if (
          !entry ||
          !sameStamp(entry.stamps.record, found.record) ||
          !sameStamp(entry.stamps.results, found.results)
        )
          changes.push([jobId, found]);
      }
      gone = [...this.entries.keys()].filter((jobId) => !stamps.has(jobId));
      this.lastFullScanAt = startedAt;
      this.lastDirectoryStamp = directoryStamp;
    } else if (this.dirty.size > 0) {
      const ids = [...this.dirty];
      this.dirty.clear();
      for (let start = 0; start < ids.length; start += STAT_BATCH) {
        const batch = ids.slice(start, start + STAT_BATCH);
        const found = await Promise.all(batch.map((jobId) => workspace.stampsOf(jobId)));
        for (const [index, jobId] of batch.entries()) changes.push([jobId, found[index] as JobFileStamps]);
      }
    }
    const version = this.version + 1;
    let changed = false;
    for (const jobId of gone) changed = this.remove(jobId, version) || changed;
    for (let start = 0; start < changes.length; start += STAT_BATCH) {
      const batch = changes.slice(start, start + STAT_BATCH);
      const results = await Promise.all(batch.map(([jobId, stamps]) => this.reload(jobId, stamps, version)));
      changed = results.some(Boolean) || changed;
    }
    if (changed) this.version = version;
    this.built = true;
  }

  /** Reads a job again if its files changed; true when the entry changed. */
  private async reload(jobId: string, stamps: JobFileStamps, version: number): Promise<boolean> {
    if (stamps.record === null) return this.remove(jobId, version);
    const entry = this.entries.get(jobId);
    if (entry && sameStamp(entry.stamps.record, stamps.record)) {
      if (sameStamp(entry.stamps.results, stamps.results)) return false;
      this.entries.set(jobId, { ...entry, stamps, version });
      this.listed = null;
      return true;
    }
    let listing: JobListing;
    try {
      listing = { jobId, record: await this.store.load(jobId), error: null };
    } catch (error) {
      const relayError =
        error instanceof RelayError
          ? error
          : new CorruptWorkspaceError(this.store.workspace.recordPath(jobId), (error as Error).message);
      listing = { jobId, record: null, error: relayError };
    }
    // Removed between the stat and the read.
    if (listing.record === null && listing.error === null) return this.remove(jobId, version);
    if (!entry) this.sortedIds = null;
    this.entries.set(jobId, { ...listing, stamps, version });
    this.listed = null;
    this.removed.delete(jobId);
    return true;
  }

  private remove(jobId: string, version: number): boolean {
    if (!this.entries.delete(jobId)) return false;
    this.sortedIds = null;
    this.listed = null;
    this.removed.set(jobId, version);
    return true;
  }
}
