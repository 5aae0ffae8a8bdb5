import type { JobStatus } from "../../types.js";
import { asNumber, asObject, asString } from "../shared/json.js";

const STATUSES: Record<string, JobStatus> = {
  in_progress: "in_progress",
  canceling: "cancelling",
  ended: "completed",
  // Relay's own names, in case a stored record already holds a normalised status.
  pending: "pending",
  cancelling: "cancelling",
  completed: "completed",
  cancelled: "cancelled",
  expired: "expired",
  failed: "failed",
};

/**
 * A stored `processing_status` alone. `ended` reads as completed: the string cannot say whether the batch was
 * cancelled or expired (the batch object can; see `anthropicBatchStatus`).
 */
export function normaliseAnthropicStatus(status: string): JobStatus {
  return STATUSES[status.toLowerCase()] ?? "in_progress";
}

export interface AnthropicCounts {
  total: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export function countsOf(requestCounts: unknown): AnthropicCounts {
  const counts = asObject(requestCounts) ?? {};
  const read = (key: string) => asNumber(counts[key]) ?? 0;
  const succeeded = read("succeeded");
  const errored = read("errored");
  const canceled = read("canceled");
  const expired = read("expired");
  return {
    total: read("processing") + succeeded + errored + canceled + expired,
    succeeded,
    errored,
    canceled,
    expired,
  };
}

/**
 * The normalised status of a batch object. Anthropic has no batch-level failure: an `ended` batch is cancelled
 * when a cancel was initiated, expired when every request expired, and otherwise completed (its requests may
 * still have errored or expired one by one; their results say so).
 */
export function anthropicBatchStatus(batch: unknown): JobStatus {
  const object = asObject(batch) ?? {};
  const status = normaliseAnthropicStatus(asString(object.processing_status) ?? "");
  if (status !== "completed") return status;
  if (asString(object.cancel_initiated_at)) return "cancelled";
  const counts = countsOf(object.request_counts);
  if (counts.total > 0 && counts.expired === counts.total) return "expired";
  return "completed";
}
