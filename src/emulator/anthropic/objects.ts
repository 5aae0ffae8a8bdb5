import { estimateTokens, type FakeCompletion } from "../completion.js";
import {
  type Phase,
  type RequestOutcome,
  type SimRequest,
  type SimulatedBatch,
  TERMINAL_PHASES,
} from "../engine.js";
import { hashText, structuredAnswer, valueForSchema } from "../structured.js";
import type { AnswerPlan } from "./answers.js";

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

/** The answer's content blocks and token counts, from the request's plan (plain text without one). */
function answerOf(request: SimRequest, completion: FakeCompletion, plan: AnswerPlan | undefined) {
  const content: Record<string, unknown>[] = [];
  let outputTokens = 0;
  let stopReason = "end_turn";
  let stopSequence: string | null = null;
  if (plan && plan.thinkingBudget > 0) {
    const thinking = `Emulated reasoning about: ${request.promptText.slice(0, 80)}`;
    const tokens = Math.min(plan.thinkingBudget, estimateTokens(thinking));
    content.push({ type: "thinking", thinking, signature: `sig_${hashText(plan.seed).toString(16)}` });
    outputTokens += tokens;
  }
  const thinkingTokens = outputTokens;
  const room = (request.maxTokens ?? Number.POSITIVE_INFINITY) - thinkingTokens;
  if (plan?.kind === "tool" && plan.tool) {
    const input = valueForSchema(plan.tool.schema, hashText(plan.seed));
    if (plan.markers.has("offschema") && input && typeof input === "object") {
      const required = (plan.tool.schema as { required?: unknown })?.required;
      const missing = Array.isArray(required) ? required[0] : Object.keys(input)[0];
      if (typeof missing === "string") delete (input as Record<string, unknown>)[missing];
    }
    content.push({
      type: "tool_use",
      id: `toolu_${hashText(`${plan.seed}/tool`).toString(36)}`,
      name: plan.tool.name,
      input,
      caller: { type: "direct" },
    });
    outputTokens += estimateTokens(JSON.stringify(input));
    stopReason = "tool_use";
  } else {
    let text =
      plan?.kind === "json" ? structuredAnswer(plan.schema, plan.seed, plan.markers) : completion.text;
    for (const stop of plan?.stopSequences ?? []) {
      const at = text.indexOf(stop);
      if (at !== -1) {
        text = text.slice(0, at);
        stopReason = "stop_sequence";
        stopSequence = stop;
      }
    }
    let tokens = estimateTokens(text);
    const cut = tokens > room;
    if (cut) {
      text = text.slice(0, Math.max(0, room) * 4);
      tokens = Math.max(0, room);
    }
    if (cut || (plan?.kind !== "json" && completion.truncated)) {
      stopReason = "max_tokens";
      stopSequence = null;
    }
    content.push({ type: "text", text });
    outputTokens += tokens;
  }
  return { content, outputTokens, thinkingTokens, stopReason, stopSequence };
}

function message(
  request: SimRequest,
  completion: FakeCompletion,
  seed: string,
  plan: AnswerPlan | undefined,
) {
  const answer = answerOf(request, completion, plan);
  return {
    id: `msg_${seed}`,
    type: "message",
    role: "assistant",
    model: request.model,
    content: answer.content,
    stop_reason: answer.stopReason,
    stop_sequence: answer.stopSequence,
    usage: {
      input_tokens: completion.inputTokens + (plan?.extraInputTokens ?? 0),
      output_tokens: answer.outputTokens,
      cache_creation_input_tokens: plan?.cacheWriteTokens ?? 0,
      cache_read_input_tokens: plan?.cacheReadTokens ?? 0,
      ...(answer.thinkingTokens > 0
        ? { output_tokens_details: { thinking_tokens: answer.thinkingTokens } }
        : {}),
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
export function resultLine(
  request: SimRequest,
  outcome: RequestOutcome,
  seed: string,
  plan?: AnswerPlan,
): string | null {
  let result: unknown;
  switch (outcome.kind) {
    case "succeeded":
      result = { type: "succeeded", message: message(request, outcome.completion, seed, plan) };
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
