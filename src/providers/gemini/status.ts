import type { JobStatus } from "../../types.js";

/**
 * Gemini's batch states. The API sends `BATCH_STATE_*`; @google/genai (and the docs' prose) name the same states
 * `JOB_STATE_*`, sharing an enum with Vertex AI that adds QUEUED, CANCELLING, PAUSED, UPDATING and
 * PARTIALLY_SUCCEEDED. Both spellings are read, so that a state stored from either source maps the same way.
 */
const STATES: Record<string, JobStatus> = {
  PENDING: "pending",
  QUEUED: "pending",
  RUNNING: "in_progress",
  SUCCEEDED: "completed",
  PARTIALLY_SUCCEEDED: "completed",
  FAILED: "failed",
  CANCELLING: "cancelling",
  CANCELLED: "cancelled",
  EXPIRED: "expired",
};

/** Relay's status for a Gemini state; UNSPECIFIED, PAUSED, UPDATING and anything unknown count as still running. */
export function normaliseGeminiState(state: string): JobStatus {
  const name = state.toUpperCase().replace(/^(BATCH|JOB)_STATE_/, "");
  return STATES[name] ?? "in_progress";
}
