import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { JobExistsError } from "../errors.js";
import type { ProviderAdapter } from "../providers/types.js";
import type { JobRecord } from "../workspace/job-record.js";
import type { Workspace } from "../workspace/workspace.js";
import {
  FORMATS_FILE,
  ORDER_FILE,
  type PlannedShard,
  shardFile,
  shardFormatsFile,
  shardIdsFile,
} from "./plan.js";
import { type JobHandle, plannedShardRecord } from "./record.js";
import { uploadShard } from "./submit.js";

/*
 * How a new job's requests reach the provider while they are still being written, and what a crash leaves at each
 * point (Submission.start drives it; the shard states are those of advanceShard):
 *
 *  1. The requests are validated, encoded and written into shard files in a staging directory of the job. Until
 *     the first shard is closed nothing is stored and nothing is sent: bad input ends the submission with its typed
 *     error, and a crash leaves only the staging directory, which the next submission of the job removes.
 *  2. As each shard is closed while requests still come (in shard order), its files are moved into the job's
 *     directory and it is added to the job's record in state "planned"; the record is stored, with
 *     `requests_written: false`, before the shard's upload starts (write ahead), and again once it is uploaded.
 *     Uploads run while the next shards are written, at most `concurrency` at once. No batch is created while
 *     `requests_written` is false: a batch is paid for, and the input may still turn out bad.
 *  3. Bad input found after 2: the uploads in flight are waited for, the uploaded files are deleted at the
 *     provider, and the record and the job's files are removed, as if the job had never been submitted; the typed
 *     error is thrown. (A crash during this leaves the record of 2.)
 *  4. Once every request is written: the shards closed at the end are added (without uploads), the order and
 *     format files go into the job's directory, and the record is completed (request count, digest,
 *     `requests_written: true`) and stored. Then every shard goes on to its batch (advanceShard), each waiting for
 *     its upload in flight first. A job that fits in one shard therefore goes exactly as before: one record, stored
 *     complete before the first provider call.
 *
 * A record left with `requests_written: false` by a crash cannot be finished from the workspace, since its input
 * went with the process: recover, monitorBatch and waitForBatch refuse it (submission_interrupted) and cancelBatch
 * ends it. Submitting the same requests again carries it on: they are written again into a new staging directory;
 * each shard the record holds is checked against the new one (digest and size) and keeps its state (its upload),
 * each further shard is added as in 2, and 4 follows. Different requests are refused (job_exists) and leave the
 * stored job as it was.
 */

/** Runs tasks with at most `limit` at once. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** How the intake starts: no record yet (made at the first shard), or the record of an interrupted writing. */
export type IntakeStart =
  | { kind: "new"; record: (first: PlannedShard) => JobRecord; handle: (record: JobRecord) => JobHandle }
  | { kind: "resume"; handle: JobHandle };

/**
 * Takes each closed shard of a job being written into the job's record and starts its upload (steps 2 and 4
 * above). Used as planShards' onShard.
 */
export class ShardIntake {
  private handle: JobHandle | null;
  /** Shards the stored record held before this submission (when carrying an interrupted one on). */
  private readonly stored: number;
  private readonly uploads = new Map<number, Promise<void>>();
  private readonly limiter: Limiter;
  /** Shards taken so far (checked or recorded). */
  private taken = 0;

  constructor(
    private readonly start: IntakeStart,
    private readonly workspace: Workspace,
    private readonly adapter: ProviderAdapter,
    private readonly staging: string,
    private readonly jobDir: string,
    concurrency: number,
  ) {
    this.handle = start.kind === "resume" ? start.handle : null;
    this.stored = start.kind === "resume" ? start.handle.record.shards.length : 0;
    this.limiter = new Limiter(concurrency);
  }

  /** The job's record, once stored (null before the first shard of a new job). */
  get job(): JobHandle | null {
    return this.handle;
  }

  /** Takes a shard closed while requests still come: checked against the stored one, or recorded; uploaded. */
  readonly take = async (shard: PlannedShard): Promise<void> => {
    await this.accept(shard);
    await this.handle?.save();
    this.startUpload(shard.index);
  };

  /** Checks a shard against the one stored at its place, or records it (its files moved into the job). */
  private async accept(shard: PlannedShard): Promise<void> {
    this.taken = shard.index + 1;
    if (shard.index < this.stored) {
      const handle = this.handle as JobHandle;
      const recorded = handle.shard(shard.index);
      if (recorded.digest !== shard.digest || recorded.n_requests !== shard.nRequests)
        throw differentRequests(handle.record);
      return;
    }
    await this.moveIntoJob([
      shardFile(shard.index),
      shardIdsFile(shard.index),
      shardFormatsFile(shard.index),
    ]);
    if (!this.handle) {
      if (this.start.kind !== "new") throw new Error("an interrupted record is carried on, never made");
      this.handle = this.start.handle(this.start.record(shard));
    } else {
      this.handle.record.shards.push(plannedShardRecord(shard));
      this.handle.record.n_requests += shard.nRequests;
    }
  }

  private startUpload(index: number): void {
    const handle = this.handle as JobHandle;
    if (handle.shard(index).state !== "planned" || this.uploads.has(index)) return;
    // A failed upload leaves the shard planned: advanceShard uploads it again, and reports the error then.
    const upload = this.limiter
      .run(() => uploadShard(handle, this.adapter, index, this.jobDir))
      .catch(() => {});
    this.uploads.set(index, upload);
  }

  /** The upload of a shard in flight, if any, done (advanceShard must not upload it a second time). */
  async uploaded(index: number): Promise<void> {
    await this.uploads.get(index);
  }

  /** Every upload in flight, done. */
  async settled(): Promise<void> {
    await Promise.all(this.uploads.values());
  }

  /**
   * Step 4: the shards closed when the requests ended taken like the others (never uploaded here: the record says
   * first that every request is written), the job's remaining files moved into its directory and the record
   * completed. The plan must account for every shard the stored record held.
   */
  async complete(
    plan: { shards: readonly PlannedShard[]; nRequests: number; digest: string },
    fields: Pick<JobRecord, "estimated_cost">,
  ): Promise<JobHandle> {
    for (const shard of plan.shards.slice(this.taken)) await this.accept(shard);
    const handle = this.handle as JobHandle;
    if (plan.shards.length < this.stored) throw differentRequests(handle.record);
    await this.moveIntoJob([ORDER_FILE, FORMATS_FILE]);
    Object.assign(handle.record, fields, {
      n_requests: plan.nRequests,
      requests_digest: plan.digest,
      requests_written: true,
    });
    await handle.save();
    return handle;
  }

  /** Step 3 (a new job only): what was stored and uploaded is removed. */
  async abandon(jobId: string): Promise<void> {
    await this.settled();
    if (this.start.kind !== "new") return;
    const handle = this.handle;
    if (handle && this.adapter.deleteBatchFiles) {
      for (const shard of handle.record.shards) {
        if (!shard.input_file_id) continue;
        await this.adapter
          .deleteBatchFiles({
            batchId: null,
            inputFileId: shard.input_file_id,
            outputFileId: null,
            errorFileId: null,
          })
          .catch(() => {});
      }
    }
    await this.workspace.removeRecord(jobId);
    await this.workspace.removeJobFiles(jobId);
    this.handle = null;
  }

  private async moveIntoJob(names: readonly string[]): Promise<void> {
    await mkdir(this.jobDir, { recursive: true });
    for (const name of names) {
      try {
        await rename(join(this.staging, name), join(this.jobDir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        // Not written (a shard without formats): nothing of an earlier attempt may stand in for it.
        await rm(join(this.jobDir, name), { force: true });
      }
    }
  }
}

function differentRequests(record: JobRecord): JobExistsError {
  return new JobExistsError(
    `Job "${record.job_id}" already exists: its submission was interrupted while its requests were being ` +
      "written, and these requests are not the same. Submit the same requests to carry it on, cancel it, or " +
      "choose another job ID.",
  );
}
