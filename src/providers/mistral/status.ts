import type { JobStatus } from "../../types.js";

const STATUSES: Record<string, JobStatus> = {
  QUEUED: "pending",
  RUNNING: "in_progress",
  SUCCESS: "completed",
  FAILED: "failed",
  TIMEOUT_EXCEEDED: "expired",
  CANCELLATION_REQUESTED: "cancelling",
  CANCELLED: "cancelled",
};

/**
 * Mistral batch job statuses (upper case in the spec and the SDK's open enum; any case accepted). An unknown
 * value is treated as still running, so Relay keeps polling rather than fetching results too early.
 */
export function normaliseMistralStatus(status: string): JobStatus {
  return STATUSES[status.toUpperCase()] ?? "in_progress";
}
