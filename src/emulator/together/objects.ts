import { type Phase, type SimulatedBatch, TERMINAL_PHASES } from "../engine.js";
import type { StoredFile } from "../files.js";

export type TogetherStatus = "VALIDATING" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "EXPIRED" | "CANCELLED";

/**
 * Together has no CANCELLING or FINALIZING state. A cancel is shown as CANCELLED at once, with result files that
 * are final from that moment (requests done before the cancel, the rest cancelled): a terminal status is never
 * shown before its results are complete, and nothing changes after it.
 */
const STATUS_OF_PHASE: Record<Phase, TogetherStatus> = {
  validating: "VALIDATING",
  in_progress: "IN_PROGRESS",
  finalizing: "IN_PROGRESS",
  completed: "COMPLETED",
  failed: "FAILED",
  expired: "EXPIRED",
  cancelling: "CANCELLED",
  cancelled: "CANCELLED",
};

/** A stored file with the fields Together's FileResponse adds. */
export interface TogetherFile extends StoredFile {
  fileType: "jsonl" | "csv" | "parquet";
  /** False between the presigned-URL request and the PUT of the bytes. */
  uploaded: boolean;
}

export interface TogetherBatch {
  sim: SimulatedBatch;
  inputFileId: string;
  endpoint: string;
  fileSizeBytes: number;
  modelId: string | undefined;
  userId: string;
  outputFileId?: string;
  errorFileId?: string;
  resultFilesMade?: boolean;
}

/** Where a batch stands as Together shows it at `now`. */
export interface Timeline {
  phase: Phase;
  status: TogetherStatus;
  /** The moment whose request outcomes the result files hold, once the batch has ended; else null. */
  settledAt: number | null;
  /** When the batch ended as shown (for `completed_at`); null while it runs. */
  endedAt: number | null;
}

export function timelineOf(sim: SimulatedBatch, now: number): Timeline {
  const { phase, since } = sim.phaseWithTime(now);
  const status = STATUS_OF_PHASE[phase];
  if (phase === "cancelling" || phase === "cancelled") {
    const requested = sim.cancelRequestedAt ?? since;
    return { phase, status, settledAt: requested + sim.timing.cancellingMs, endedAt: requested };
  }
  const ended = TERMINAL_PHASES.has(phase) ? since : null;
  return { phase, status, settledAt: ended, endedAt: ended };
}

/** Share of requests processed (succeeded or failed), 0–100. */
export function progressOf(sim: SimulatedBatch, timeline: Timeline, now: number): number {
  if (timeline.phase === "completed") return 100;
  if (timeline.phase === "validating" || timeline.phase === "failed" || sim.requests.length === 0) return 0;
  const counts = sim.counts(timeline.settledAt ?? now);
  return (100 * (counts.succeeded + counts.failed)) / counts.total;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** FileResponse. */
export function fileObject(file: TogetherFile) {
  return {
    id: file.id,
    object: "file",
    created_at: Math.floor(file.createdAt / 1000),
    filename: file.filename,
    bytes: file.bytes,
    purpose: file.purpose,
    Processed: file.uploaded,
    FileType: file.fileType,
  };
}

/** BatchJob. Fields without a value are left out: the spec allows no nulls. */
export function batchJobObject(batch: TogetherBatch, timeline: Timeline, progress: number) {
  const { sim } = batch;
  const job: Record<string, unknown> = {
    id: sim.id,
    user_id: batch.userId,
    input_file_id: batch.inputFileId,
    file_size_bytes: batch.fileSizeBytes,
    status: timeline.status,
    job_deadline: iso(sim.expiresAt),
    created_at: iso(sim.createdAt),
    endpoint: batch.endpoint,
    progress,
  };
  if (batch.modelId !== undefined) job.model_id = batch.modelId;
  if (batch.outputFileId) job.output_file_id = batch.outputFileId;
  if (batch.errorFileId) job.error_file_id = batch.errorFileId;
  if (timeline.phase === "failed" && sim.validationError) {
    const { message, line } = sim.validationError;
    job.error =
      line === undefined || message.includes(`Line ${line}`) ? message : `${message} (line ${line})`;
  }
  if (timeline.endedAt !== null) job.completed_at = iso(timeline.endedAt);
  return job;
}
