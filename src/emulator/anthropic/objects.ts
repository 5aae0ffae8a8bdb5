import type { FakeCompletion } from "../completion.js";
import {
  type Phase,
  type RequestOutcome,
  type SimRequest,
  type SimulatedBatch,
  TERMINAL_PHASES,
} from "../engine.js";

const iso = (ms: number) => new Date(ms).toISOString();

/** Anthropic shows three processing states; the engine's finer phases fold into them. */
export function processingStatus(phase: Phase): "in_progress" | "canceling" | "ended" {
  if (TERMINAL_PHASES.has(phase)) return "ended";
  return phase === "cancelling" ? "canceling" : "in_progress";
}

function requestCounts(sim: SimulatedBatch, now: number, ended: boolean) {
  const counts = sim.counts(now);
  // Requests count as processing until the whole batch has ended, whatever each one's own state.
  if (!ended) return { processing: counts.total, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  return {
    processing: counts.processing,
    succeeded: counts.succeeded,
    errored: counts.failed,
    canceled: counts.cancelled,
    expired: counts.expired,
  };
}

/** The MessageBatch object at time `now`; `resultsUrl` is the absolute URL of its results. */
export function batchObject(sim: SimulatedBatch, now: number, resultsUrl: string) {
  const { phase, since } = sim.phaseWithTime(now);
  const status = processingStatus(phase);
  const ended = status === "ended";
  return {
    id: sim.id,
    type: "message_batch",
    processing_status: status,
    request_counts: requestCounts(sim, now, ended),
    ended_at: ended ? iso(since) : null,
    created_at: iso(sim.createdAt),
    expires_at: iso(sim.expiresAt),
    archived_at: null,
    cancel_initiated_at: sim.cancelRequestedAt === null ? null : iso(sim.cancelRequestedAt),
    results_url: ended ? resultsUrl : null,
  };
}

function message(request: SimRequest, completion: FakeCompletion, seed: string) {
  return {
    id: `msg_${seed}`,
    type: "message",
    role: "assistant",
    model: request.model,
    content: [{ type: "text", text: completion.text }],
    stop_reason: completion.truncated ? "max_tokens" : "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: completion.inputTokens,
      output_tokens: completion.outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

function errored(type: string, message: string, seed: string) {
  return { type: "errored", error: { type: "error", error: { type, message }, request_id: `req_${seed}` } };
}

/**
 * One line of the results file, or null for a request still processing. `seed` makes the IDs in the line, so
 * that reading the results twice gives the same bytes.
 */
export function resultLine(request: SimRequest, outcome: RequestOutcome, seed: string): string | null {
  let result: unknown;
  switch (outcome.kind) {
    case "succeeded":
      result = { type: "succeeded", message: message(request, outcome.completion, seed) };
      break;
    case "failed":
      result = errored(
        "invalid_request_error",
        outcome.rejection?.message ?? "Emulated invalid request (asked for with [emulator:fail]).",
        seed,
      );
      break;
    case "errored":
      result = errored("api_error", "Emulated internal server error.", seed);
      break;
    case "expired":
      result = { type: "expired" };
      break;
    case "cancelled":
      result = { type: "canceled" };
      break;
    default:
      return null;
  }
  return JSON.stringify({ custom_id: request.customId, result });
}
