import type { JobStatus } from "../../types.js";

const STATUSES: Record<string, JobStatus> = {
  VALIDATING: "pending",
  IN_PROGRESS: "in_progress",
  COMPLETED: "completed",
  FAILED: "failed",
  EXPIRED: "expired",
  CANCELLED: "cancelled",
  // Not in Together's spec; accepted in case the API grows a draining state or changes spelling.
  CANCELLING: "cancelling",
  CANCELED: "cancelled",
};

/**
 * Together batch statuses (upper case in the spec; any case accepted). An unknown value is treated as still
 * running, so Relay keeps polling rather than fetching results too early.
 */
export function normaliseTogetherStatus(status: string): JobStatus {
  return STATUSES[status.toUpperCase()] ?? "in_progress";
}
