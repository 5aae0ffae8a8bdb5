import { type Phase, type SimulatedBatch, TERMINAL_PHASES } from "../engine.js";
import type { StoredFile } from "../files.js";
import type { ParsedRequest } from "./input.js";

export const BATCH_STATUSES = [
  "QUEUED",
  "RUNNING",
  "SUCCESS",
  "FAILED",
  "TIMEOUT_EXCEEDED",
  "CANCELLATION_REQUESTED",
  "CANCELLED",
] as const;
export type MistralStatus = (typeof BATCH_STATUSES)[number];

/** Mistral has no finalizing state: a job runs until its results are written, then it has succeeded. */
const STATUS_OF_PHASE: Record<Phase, MistralStatus> = {
  validating: "QUEUED",
  in_progress: "RUNNING",
  finalizing: "RUNNING",
  completed: "SUCCESS",
  failed: "FAILED",
  expired: "TIMEOUT_EXCEEDED",
  cancelling: "CANCELLATION_REQUESTED",
  cancelled: "CANCELLED",
};

export const FILE_PURPOSES = ["fine-tune", "batch", "ocr"] as const;
export const SAMPLE_TYPES = ["pretrain", "instruct", "batch_request", "batch_result", "batch_error"] as const;
export const SOURCES = ["upload", "repository", "mistral"] as const;

/** A stored file with the fields Mistral's file objects carry. */
export interface MistralFile extends StoredFile {
  sampleType: (typeof SAMPLE_TYPES)[number];
  source: (typeof SOURCES)[number];
  mimetype: string | null;
  numLines: number | null;
  signature: string | null;
  /** Unix ms, or null for a file that does not expire. */
  expiresAt: number | null;
  visibility: "workspace" | "user";
}

export interface MistralBatch {
  sim: SimulatedBatch;
  requests: readonly ParsedRequest[];
  inputFiles: string[];
  endpoint: string;
  model: string;
  metadata: Record<string, string> | null;
  /** Created with inline `requests` (their outputs are then shown on the job unless `inline=false`). */
  inline: boolean;
  /** Who created it (a digest of the key), for `created_by_me`. */
  createdBy: string;
  outputFileId?: string;
  errorFileId?: string;
  resultFilesMade?: boolean;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Where a job stands at `now`. */
export interface Timeline {
  phase: Phase;
  status: MistralStatus;
  /** The moment whose request outcomes the results hold, once the job has ended (else null). */
  settledAt: number | null;
}

export function timelineOf(sim: SimulatedBatch, now: number): Timeline {
  const { phase, since } = sim.phaseWithTime(now);
  return { phase, status: STATUS_OF_PHASE[phase], settledAt: TERMINAL_PHASES.has(phase) ? since : null };
}

/** UploadFileOut / FileSchema (RetrieveFileOut adds `deleted`). `bytes` is always an integer: the SDK requires it. */
export function fileObject(file: MistralFile, bytes: number) {
  return {
    id: file.id,
    object: "file",
    bytes,
    created_at: seconds(file.createdAt),
    filename: file.filename,
    purpose: file.purpose,
    sample_type: file.sampleType,
    num_lines: file.numLines,
    mimetype: file.mimetype,
    source: file.source,
    signature: file.signature,
    expires_at: file.expiresAt === null ? null : seconds(file.expiresAt),
    visibility: file.visibility,
  };
}

/** BatchJobOut as the API shows it at `now`; `outputs` holds the result records when asked for and ended. */
export function batchJobObject(
  batch: MistralBatch,
  timeline: Timeline,
  now: number,
  outputs: unknown[] | null,
) {
  const { sim } = batch;
  const counts = sim.counts(timeline.settledAt ?? now);
  const milestones = sim.milestones(now);
  const failed = timeline.phase === "failed";
  const started = failed ? undefined : milestones.in_progress;
  return {
    id: sim.id,
    object: "batch",
    input_files: batch.inputFiles,
    metadata: batch.metadata,
    endpoint: batch.endpoint,
    model: batch.model,
    agent_id: null,
    output_file: batch.outputFileId ?? null,
    error_file: batch.errorFileId ?? null,
    errors: failed && sim.validationError ? [{ message: sim.validationError.message, count: 1 }] : [],
    outputs,
    status: timeline.status,
    created_at: seconds(sim.createdAt),
    total_requests: sim.requests.length,
    completed_requests: failed ? 0 : counts.succeeded + counts.failed,
    succeeded_requests: failed ? 0 : counts.succeeded,
    failed_requests: failed ? 0 : counts.failed,
    started_at: started === undefined ? null : seconds(started),
    completed_at: timeline.settledAt === null ? null : seconds(timeline.settledAt),
  };
}
