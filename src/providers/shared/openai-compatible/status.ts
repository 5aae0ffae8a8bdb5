import type { JobStatus } from "../../../types.js";

/** Keyed without case, spaces, underscores or hyphens: Azure's v1 API capitalises ("Validating", "Completed"). */
const STATUSES: Record<string, JobStatus> = {
  validating: "pending",
  inprogress: "in_progress",
  finalizing: "in_progress",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelling: "cancelling",
  canceling: "cancelling",
  cancelled: "cancelled",
  canceled: "cancelled",
};

/**
 * Batch statuses of the OpenAI protocol, as OpenAI, Groq and Azure spell them. An unknown value counts as still
 * running, so Relay keeps polling rather than fetching results too early.
 */
export function normaliseOpenAIStatus(status: string): JobStatus {
  return STATUSES[status.toLowerCase().replace(/[\s_-]/g, "")] ?? "in_progress";
}
