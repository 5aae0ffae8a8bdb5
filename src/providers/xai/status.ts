import type { JobStatus } from "../../types.js";
import { asNumber, asObject, asString } from "../shared/json.js";

/**
 * xAI batches have no status field. Relay reads one from `state`, `cancel_time`, `cancel_by_xai_message` and
 * `expire_time`, as the official SDK's `wait()` decides that a batch is done, and keeps it as the provider status.
 */
export type XaiBatchState =
  /** No requests yet (being filled, or a file not yet read). */
  | "empty"
  | "processing"
  | "cancelling"
  | "cancelled"
  /** Past `expire_time`: nothing more will run. */
  | "expired"
  | "done"
  /** The batch came without `state` ("not always populated"): still running as far as Relay knows. */
  | "unknown";

const STATUSES: Record<string, JobStatus> = {
  empty: "pending",
  processing: "in_progress",
  cancelling: "cancelling",
  cancelled: "cancelled",
  expired: "expired",
  done: "completed",
  unknown: "in_progress",
};

/** A stored provider status (Relay's reading above); anything else counts as still running. */
export function normaliseXaiStatus(status: string): JobStatus {
  return STATUSES[status] ?? "in_progress";
}

export interface XaiCounts {
  total: number;
  pending: number;
  succeeded: number;
  errored: number;
  cancelled: number;
}

/** `state`, with int64 counts that may come as numbers or as strings. */
export function countsOf(batch: unknown): XaiCounts | null {
  const state = asObject(asObject(batch)?.state);
  if (!state) return null;
  const read = (key: string) => asNumber(Number(state[key] ?? 0)) ?? 0;
  return {
    total: read("num_requests"),
    pending: read("num_pending"),
    succeeded: read("num_success"),
    errored: read("num_error"),
    cancelled: read("num_cancelled"),
  };
}

/**
 * Where a batch stands at `now` (the provider's clock, unix ms). Done, as the SDK's `wait()` says, when nothing is
 * pending and it holds requests or has ended (cancelled or expired). Relay also counts a batch still pending past
 * its `expire_time` as ended, so that it never waits for requests that will not run.
 */
export function xaiBatchState(batch: unknown, now: number): XaiBatchState {
  const object = asObject(batch) ?? {};
  const counts = countsOf(object);
  if (!counts) return "unknown";
  const cancelled =
    asString(object.cancel_time) !== undefined || asString(object.cancel_by_xai_message) !== undefined;
  const expireAt = Date.parse(asString(object.expire_time) ?? "");
  const expired = !Number.isNaN(expireAt) && expireAt <= now;
  if (counts.pending > 0) return cancelled ? "cancelling" : expired ? "expired" : "processing";
  if (cancelled) return "cancelled";
  if (counts.total === 0) return expired ? "expired" : "empty";
  return "done";
}
