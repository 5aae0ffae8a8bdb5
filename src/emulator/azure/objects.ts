import type { Phase } from "../engine.js";
import type { OpenAICompatibleBatch } from "../openai-compatible/emulation.js";

type Json = Record<string, unknown>;

/** Which API a request came through: the shapes differ (az-docs REST samples use v1, Python samples versioned). */
export type AzureApiKind = "v1" | "versioned";

const TIMESTAMPS = [
  "created_at",
  "in_progress_at",
  "expires_at",
  "finalizing_at",
  "completed_at",
  "failed_at",
  "expired_at",
  "cancelling_at",
  "cancelled_at",
] as const;

/** The v1 API's statuses are capitalised ("Validating", "Completed"); the other spellings are UNVERIFIED. */
const CAPITALISED: Record<Phase, string> = {
  validating: "Validating",
  failed: "Failed",
  in_progress: "InProgress",
  finalizing: "Finalizing",
  completed: "Completed",
  expired: "Expired",
  cancelling: "Cancelling",
  cancelled: "Cancelled",
};

/** An ISO timestamp as Azure's v1 API writes it: 7 fractional digits and `+00:00`. */
export function azureIso(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "0000+00:00");
}

/**
 * Azure's batch object from the one OpenAI shows: every field present (null when unset), no `model` or `usage`.
 * v1: ISO timestamps, capitalised status, null counts while validating (and null completed/failed once failed).
 * Versioned: unix seconds, lower-case status, `endpoint` null, counts 0 and empty-string file IDs while validating.
 */
export function azureBatchObject(object: Json, batch: OpenAICompatibleBatch, api: AzureApiKind): Json {
  const phase = object.status as Phase;
  const validating = phase === "validating";
  const counts = object.request_counts as { total: number; completed: number; failed: number };
  const time = (value: unknown) =>
    typeof value !== "number" ? null : api === "v1" ? azureIso(value * 1000) : value;
  const unsetFileId = api === "versioned" && validating ? "" : null;
  const presented: Json = {
    id: object.id,
    object: "batch",
    endpoint: api === "v1" ? batch.endpoint : null,
    errors: object.errors ?? null,
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: api === "v1" ? CAPITALISED[phase] : phase,
    output_file_id: object.output_file_id ?? unsetFileId,
    error_file_id: object.error_file_id ?? unsetFileId,
    metadata: batch.metadata,
    request_counts:
      api === "versioned"
        ? validating
          ? { total: 0, completed: 0, failed: 0 }
          : counts
        : validating
          ? { total: null, completed: null, failed: null }
          : phase === "failed"
            ? { total: batch.sim.requests.length, completed: null, failed: null }
            : counts,
  };
  for (const key of TIMESTAMPS) presented[key] = time(object[key]);
  return presented;
}
