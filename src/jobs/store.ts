import { JobNotFoundError } from "../errors.js";
import { providerEntry } from "../providers/registry.js";
import type { JobRecord } from "../workspace/job-record.js";
import type { FileLock, LockOptions } from "../workspace/lock.js";
import type { Workspace } from "../workspace/workspace.js";
import { batchIdsOf, JobHandle, parseJobRecord } from "./record.js";

/** The job records of a workspace, read and parsed, and the lock under which one is changed. */
export class JobStore {
  constructor(
    readonly workspace: Workspace,
    private readonly lockOptions: LockOptions | undefined,
  ) {}

  /** The stored record, or null when there is none. A corrupt record throws CorruptWorkspaceError. */
  async load(jobId: string): Promise<JobRecord | null> {
    const raw = await this.workspace.readRecord(jobId);
    return raw ? parseJobRecord(raw, this.workspace.recordPath(jobId), providerEntry, jobId) : null;
  }

  /** The records of every other job in the workspace (a corrupt record is skipped here: it is reported elsewhere). */
  async others(jobId: string): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    for (const id of await this.workspace.listJobIds()) {
      if (id === jobId) continue;
      const record = await this.load(id).catch(() => null);
      if (record) records.push(record);
    }
    return records;
  }

  /** A record to work on, whose saves go to this workspace and whose lookups see every job's batches. */
  handle(record: JobRecord): JobHandle {
    return new JobHandle(this.workspace, record, () => this.recordedBatchIds(record));
  }

  lock(jobId: string): Promise<FileLock> {
    return this.workspace.lockJob(jobId, this.lockOptions);
  }

  /** Runs `work` on the stored job under its lock, reading the record once the lock is held. */
  async withJob<T>(jobId: string, work: (job: JobHandle) => Promise<T>): Promise<T> {
    if (!(await this.load(jobId))) throw new JobNotFoundError(jobId);
    const lock = await this.lock(jobId);
    try {
      const record = await this.load(jobId);
      if (!record) throw new JobNotFoundError(jobId);
      return await work(this.handle(record));
    } finally {
      await lock.release();
    }
  }

  /** Batch IDs recorded by every job in the workspace: never the answer to another shard's lookup. */
  private async recordedBatchIds(current: JobRecord): Promise<Set<string>> {
    const ids = batchIdsOf(current);
    for (const record of await this.others(current.job_id)) for (const id of batchIdsOf(record)) ids.add(id);
    return ids;
  }
}
