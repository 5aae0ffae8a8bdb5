import { createHash } from "node:crypto";
import { estimateTokens, type FakeCompletion } from "../completion.js";
import type { RequestOutcome } from "../engine.js";
import { answerOf, chatAnswer } from "../openai-compatible/lines.js";
import type { AddedRequest } from "./input.js";

/** USD ticks (1e-10 USD) per token of the emulated model: a round figure, so that costs can be added up. */
const TICKS_PER_TOKEN = 10_000;

/** Reasoning tokens of the emulated model: none for a "non-reasoning" model, else as many as the prompt has. */
function reasoningTokens(request: AddedRequest): number {
  return request.model.includes("non-reasoning") ? 0 : estimateTokens(request.promptText);
}

/** What one succeeded request cost, in USD ticks. */
export function costTicks(request: AddedRequest, completion: FakeCompletion): number {
  const answer = answerOf(request, completion);
  const visible = answer.outputTokens - answer.reasoningTokens;
  return (answer.inputTokens + visible + reasoningTokens(request)) * TICKS_PER_TOKEN;
}

function responseId(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A chat.completion as xAI returns it (spec `ChatResponse`): reasoning tokens are counted apart from
 * `completion_tokens`, and `total_tokens` adds them in, as in the spec's own example; image tokens are part of the
 * prompt's.
 */
function chatCompletion(request: AddedRequest, completion: FakeCompletion, created: number, seed: string) {
  const reasoning = reasoningTokens(request);
  const answer = answerOf(request, completion);
  const { message, finishReason } = chatAnswer(answer);
  const visible = answer.outputTokens - answer.reasoningTokens;
  return {
    id: responseId(seed),
    object: "chat.completion",
    created: Math.floor(created / 1000),
    model: request.model,
    choices: [{ index: 0, message, finish_reason: finishReason }],
    usage: {
      prompt_tokens: answer.inputTokens,
      completion_tokens: visible,
      total_tokens: answer.inputTokens + visible + reasoning,
      prompt_tokens_details: {
        text_tokens: answer.inputTokens - answer.imageTokens,
        audio_tokens: 0,
        image_tokens: answer.imageTokens,
        cached_tokens: answer.cachedTokens,
      },
      completion_tokens_details: {
        reasoning_tokens: reasoning,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
      num_sources_used: 0,
      cost_in_usd_ticks: costTicks(request, completion),
    },
    system_fingerprint: "fp_emulator",
    service_tier: "default",
  };
}

/**
 * The result record of a finished request, or null for one that produced none (pending, cancelled before it ran, or
 * never run before the batch expired). Successes come under `chat_get_completion` for both request kinds; failures
 * use the two error shapes seen: a plain string (the official SDK's fixture) and a google.rpc.Status.
 */
export function resultRecord(
  request: AddedRequest,
  outcome: RequestOutcome,
  finishedAt: number,
  seed: string,
): Record<string, unknown> | null {
  const id = request.customId;
  switch (outcome.kind) {
    case "succeeded":
      return {
        batch_request_id: id,
        batch_result: {
          response: { chat_get_completion: chatCompletion(request, outcome.completion, finishedAt, seed) },
        },
      };
    case "failed":
      return {
        batch_request_id: id,
        batch_result: { error: "Emulated request failure (asked for with [emulator:fail])." },
      };
    case "errored":
      return {
        batch_request_id: id,
        batch_result: { error: { code: 13, message: "Emulated internal error." } },
      };
    default:
      return null;
  }
}
