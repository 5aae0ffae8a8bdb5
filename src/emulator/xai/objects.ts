import { type BatchTiming, type RequestOutcome, SimulatedBatch } from "../engine.js";
import type { AddedRequest } from "./input.js";

const iso = (ms: number) => new Date(ms).toISOString();

/** Where one request lives: the add call (segment) that brought it, and its place in that call. */
interface Slot {
  segment: number;
  index: number;
}

export interface XaiCounts {
  num_requests: number;
  num_pending: number;
  num_success: number;
  num_error: number;
  num_cancelled: number;
}

/**
 * An xAI batch: created empty, then filled by add calls. Each call's requests run on the shared clock-driven engine
 * from the moment they were added (one SimulatedBatch per call), and all of them end at the batch's expire_time.
 * A request that has not run by then stays pending: it never produces a result.
 */
export class XaiBatch {
  readonly segments: SimulatedBatch[] = [];
  /** batch_request_id → slot, in the order the requests were added. */
  readonly slots = new Map<string, Slot>();
  cancelTime: number | null = null;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly createdAt: number,
    readonly apiKeyId: string,
    private readonly timing: BatchTiming,
  ) {}

  get expiresAt(): number {
    return this.createdAt + this.timing.expiresAfterMs;
  }

  add(requests: readonly AddedRequest[], now: number): void {
    const segment = this.segments.length;
    const timing = { ...this.timing, expiresAfterMs: this.expiresAt - now };
    this.segments.push(new SimulatedBatch(`${this.id}/${segment}`, requests, now, timing));
    requests.forEach((request, index) => {
      this.slots.set(request.customId, { segment, index });
    });
  }

  request(slot: Slot): AddedRequest {
    return this.segments[slot.segment]?.requests.at(slot.index) as AddedRequest;
  }

  outcome(slot: Slot, now: number): RequestOutcome {
    return (this.segments[slot.segment] as SimulatedBatch).outcome(slot.index, now);
  }

  counts(now: number): XaiCounts {
    const counts = { num_requests: 0, num_pending: 0, num_success: 0, num_error: 0, num_cancelled: 0 };
    for (const segment of this.segments) {
      const part = segment.counts(now);
      counts.num_requests += part.total;
      counts.num_pending += part.processing + part.expired;
      counts.num_success += part.succeeded;
      counts.num_error += part.failed;
      counts.num_cancelled += part.cancelled;
    }
    return counts;
  }

  /**
   * Stops what has not run. The cancel time is set even when everything had finished, as in the official SDK's
   * fixture (a cancelled batch whose one request succeeded).
   */
  cancel(now: number): void {
    for (const segment of this.segments) segment.cancel(now);
    this.cancelTime ??= now;
  }

  /** Slots in the order results are listed: newest add call first, each in the engine's shuffled order. */
  *resultSlots(): Generator<Slot> {
    for (let segment = this.segments.length - 1; segment >= 0; segment -= 1) {
      for (const index of (this.segments[segment] as SimulatedBatch).resultOrder()) yield { segment, index };
    }
  }
}

/** The Batch object (batch.proto `Batch`): timestamps as RFC 3339, unset ones null, counts as numbers. */
export function batchObject(batch: XaiBatch, now: number, costTicks: number) {
  const counts = batch.counts(now);
  return {
    batch_id: batch.id,
    name: batch.name,
    create_time: iso(batch.createdAt),
    expire_time: iso(batch.expiresAt),
    create_api_key_id: batch.apiKeyId,
    cancel_time: batch.cancelTime === null ? null : iso(batch.cancelTime),
    cancel_by_xai_message: null,
    state: counts,
    cost_breakdown: {
      total_cost_usd_ticks: costTicks,
      endpoint_costs:
        counts.num_success > 0
          ? [
              {
                endpoint: "xai_api.Chat/GetCompletion",
                cost_usd_ticks: costTicks,
                request_count: counts.num_success,
              },
            ]
          : [],
      calculation_time: iso(now),
    },
  };
}

const REQUEST_STATES: Record<RequestOutcome["kind"], string> = {
  succeeded: "succeeded",
  failed: "failed",
  errored: "failed",
  cancelled: "cancelled",
  expired: "pending",
  processing: "pending",
};

/** One entry of `GET /v1/batches/{id}/requests` (batch.proto `BatchRequestMetadata`). */
export function requestMetadata(batch: XaiBatch, id: string, now: number) {
  const slot = batch.slots.get(id) as Slot;
  const request = batch.request(slot);
  const segment = batch.segments[slot.segment] as SimulatedBatch;
  const outcome = batch.outcome(slot, now);
  const state = REQUEST_STATES[outcome.kind];
  return {
    batch_request_id: id,
    endpoint: "xai_api.Chat/GetCompletion",
    model: request.model,
    state,
    create_time: iso(segment.createdAt),
    finish_time:
      state === "pending" ? null : iso(Math.min(now, segment.validatedAt + segment.timing.inProgressMs)),
  };
}
