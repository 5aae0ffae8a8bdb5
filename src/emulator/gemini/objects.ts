import type { Phase, SimulatedBatch } from "../engine.js";
import type { StoredFile } from "../files.js";
import type { AnswerPlan } from "./answers.js";
import type { EmbedRequest } from "./embeddings.js";
import { RPC } from "./errors.js";

export type BatchState =
  | "BATCH_STATE_PENDING"
  | "BATCH_STATE_RUNNING"
  | "BATCH_STATE_SUCCEEDED"
  | "BATCH_STATE_FAILED"
  | "BATCH_STATE_CANCELLED"
  | "BATCH_STATE_EXPIRED";

/**
 * Gemini shows no finalizing or cancelling state: both are still RUNNING (a long-running operation's cancel is
 * asynchronous), until the batch ends.
 */
const STATE_OF_PHASE: Record<Phase, BatchState> = {
  validating: "BATCH_STATE_PENDING",
  in_progress: "BATCH_STATE_RUNNING",
  finalizing: "BATCH_STATE_RUNNING",
  cancelling: "BATCH_STATE_RUNNING",
  completed: "BATCH_STATE_SUCCEEDED",
  failed: "BATCH_STATE_FAILED",
  cancelled: "BATCH_STATE_CANCELLED",
  expired: "BATCH_STATE_EXPIRED",
};

export function stateOf(phase: Phase): BatchState {
  return STATE_OF_PHASE[phase];
}

/** A file of the Files API, with the fields Relay's FileStore does not have. */
export interface GeminiFile extends StoredFile {
  displayName?: string;
  mimeType: string;
  source: "UPLOADED" | "GENERATED";
  expiresAt: number;
  sha256: string;
}

/** A batch of generateContent requests, or of texts to embed (asyncBatchEmbedContent). */
export type BatchKind = "generate" | "embed";

export interface GeminiBatch {
  sim: SimulatedBatch;
  kind: BatchKind;
  /** `batches/<id>`. */
  name: string;
  /** `models/<model>`. */
  model: string;
  displayName: string;
  priority: number;
  /** The input file (`files/<id>`), or null for inline requests. */
  inputFile: string | null;
  /** Inline requests' metadata, echoed in their responses. */
  metadata: (Record<string, unknown> | undefined)[];
  /** Requests the API refused one by one: their message. */
  lineErrors: Map<number, string>;
  /** How each generate request is answered. */
  answers: (AnswerPlan | undefined)[];
  /** What each embed request embeds, and at what length. */
  embeds: EmbedRequest[];
  /** The responses file, made when the batch is first seen ended. */
  responsesFile?: string;
}

/** RFC 3339, Z-normalised, with 9 fractional digits (the API uses 0, 3, 6 or 9). */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000000Z");
}

/** int64 as proto3 JSON writes it: a string, and nothing at all for zero. */
function int64(value: number): string | undefined {
  return value === 0 ? undefined : String(value);
}

function batchStats(sim: SimulatedBatch, now: number) {
  const counts = sim.counts(now);
  const stats: Record<string, string> = {};
  const put = (key: string, value: number) => {
    const text = int64(value);
    if (text !== undefined) stats[key] = text;
  };
  put("requestCount", counts.total);
  put("successfulRequestCount", counts.succeeded);
  put("failedRequestCount", counts.failed);
  put("pendingRequestCount", counts.processing + counts.expired);
  return stats;
}

function operationError(batch: GeminiBatch, state: BatchState) {
  if (state === "BATCH_STATE_FAILED") {
    return { code: RPC.INVALID_ARGUMENT, message: batch.sim.validationError?.message ?? "The batch failed." };
  }
  if (state === "BATCH_STATE_CANCELLED") return { code: RPC.CANCELLED, message: "The batch was cancelled." };
  if (state === "BATCH_STATE_EXPIRED") {
    return {
      code: RPC.DEADLINE_EXCEEDED,
      message: "The batch expired: it was pending or running for more than 48 hours, and has no results.",
    };
  }
  return undefined;
}

const TYPE_PREFIX = "type.googleapis.com/google.ai.generativelanguage.v1beta.";
/** The `@type` of each kind of batch, and of its output. */
const TYPES: Record<BatchKind, { batch: string; output: string }> = {
  generate: {
    batch: `${TYPE_PREFIX}GenerateContentBatch`,
    output: `${TYPE_PREFIX}GenerateContentBatchOutput`,
  },
  embed: { batch: `${TYPE_PREFIX}EmbedContentBatch`, output: `${TYPE_PREFIX}EmbedContentBatchOutput` },
};

/**
 * The batch as a long-running Operation: the GenerateContentBatch in `metadata`, `done` once it has ended, then
 * `response` (success) or `error` (failure, cancel, expiry). `output` is the GenerateContentBatchOutput, given
 * in `metadata.output` (which @google/genai reads) and again in `response`, as the API does.
 */
export function operationObject(
  batch: GeminiBatch,
  now: number,
  output: Record<string, unknown> | undefined,
) {
  const { sim } = batch;
  const { phase, since } = sim.phaseWithTime(now);
  const state = stateOf(phase);
  const ended = !["BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"].includes(state);
  const error = operationError(batch, state);
  const priority = int64(batch.priority);
  return {
    name: batch.name,
    metadata: {
      "@type": TYPES[batch.kind].batch,
      model: batch.model,
      displayName: batch.displayName,
      ...(batch.inputFile ? { inputConfig: { fileName: batch.inputFile } } : {}),
      ...(output ? { output } : {}),
      createTime: timestamp(sim.createdAt),
      ...(ended ? { endTime: timestamp(since) } : {}),
      updateTime: timestamp(since),
      batchStats: batchStats(sim, now),
      state,
      ...(priority === undefined ? {} : { priority }),
      name: batch.name,
    },
    ...(ended ? { done: true } : {}),
    ...(state === "BATCH_STATE_SUCCEEDED" && output
      ? { response: { "@type": TYPES[batch.kind].output, ...output } }
      : {}),
    ...(error ? { error } : {}),
  };
}

/** A File resource. */
export function fileObject(file: GeminiFile, bytes: number, origin: string, mount: string) {
  return {
    name: file.id,
    ...(file.displayName ? { displayName: file.displayName } : {}),
    mimeType: file.mimeType,
    sizeBytes: String(bytes),
    createTime: timestamp(file.createdAt),
    updateTime: timestamp(file.createdAt),
    expirationTime: timestamp(file.expiresAt),
    sha256Hash: Buffer.from(file.sha256).toString("base64"),
    uri: `${origin}${mount}/v1beta/${file.id}`,
    state: "ACTIVE",
    source: file.source,
  };
}
