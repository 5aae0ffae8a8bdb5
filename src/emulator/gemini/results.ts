import { estimateTokens, type FakeCompletion } from "../completion.js";
import type { RequestOutcome, SimRequest } from "../engine.js";
import { hashText, structuredAnswer, valueForSchema } from "../structured.js";
import { type AnswerPlan, IMAGE_TOKENS } from "./answers.js";
import { RPC } from "./errors.js";

type Json = Record<string, unknown>;

/** The parts of the answer and the tokens they cost, from the request's plan (plain text without one). */
function answerParts(request: SimRequest, completion: FakeCompletion, plan: AnswerPlan | undefined) {
  const parts: Json[] = [];
  let finishReason = completion.truncated ? "MAX_TOKENS" : "STOP";
  let tokens = completion.outputTokens;
  const thoughts = plan?.thinkingTokens ?? 0;
  if (plan?.includeThoughts && thoughts > 0) {
    parts.push({ text: `Emulated thoughts about: ${request.promptText.slice(0, 80)}`, thought: true });
  }
  if (plan?.kind === "call" && plan.call) {
    const args = valueForSchema(plan.call.schema, hashText(plan.seed));
    parts.push({ functionCall: { name: plan.call.name, args: args ?? {} } });
    tokens = estimateTokens(JSON.stringify(args));
    finishReason = "STOP";
  } else {
    let text =
      plan?.kind === "json" ? structuredAnswer(plan.schema, plan.seed, plan.markers) : completion.text;
    for (const stop of plan?.stopSequences ?? []) {
      const at = text.indexOf(stop);
      if (at !== -1) text = text.slice(0, at);
    }
    if (plan?.kind === "json" || (plan?.stopSequences.length ?? 0) > 0) {
      tokens = estimateTokens(text);
      const max = request.maxTokens ?? Number.POSITIVE_INFINITY;
      finishReason = tokens > max ? "MAX_TOKENS" : "STOP";
      if (tokens > max) {
        text = text.slice(0, max * 4);
        tokens = max;
      }
    }
    parts.push({ text });
  }
  return { parts, finishReason, tokens, thoughts };
}

/** A GenerateContentResponse, in proto3 JSON: zero and empty fields are left out. */
export function generateContentResponse(
  request: SimRequest,
  completion: FakeCompletion,
  seed: string,
  plan: AnswerPlan | undefined,
) {
  const answer = answerParts(request, completion, plan);
  const imageTokens = (plan?.images ?? 0) * IMAGE_TOKENS;
  const textTokens = completion.inputTokens + (plan?.systemText ? estimateTokens(plan.systemText) : 0);
  const promptTokens = textTokens + imageTokens;
  const cached = plan?.cachedTokens ?? 0;
  return {
    candidates: [{ content: { parts: answer.parts, role: "model" }, finishReason: answer.finishReason }],
    usageMetadata: {
      promptTokenCount: promptTokens,
      candidatesTokenCount: answer.tokens,
      totalTokenCount: promptTokens + answer.tokens + answer.thoughts,
      promptTokensDetails: [
        { modality: "TEXT", tokenCount: textTokens },
        ...(imageTokens > 0 ? [{ modality: "IMAGE", tokenCount: imageTokens }] : []),
      ],
      ...(cached > 0
        ? { cachedContentTokenCount: cached, cacheTokensDetails: [{ modality: "TEXT", tokenCount: cached }] }
        : {}),
      ...(answer.thoughts > 0 ? { thoughtsTokenCount: answer.thoughts } : {}),
    },
    modelVersion: request.model,
    responseId: seed,
  };
}

/** The response or Status of a finished request, or null for one that did not run (pending, cancelled, expired). */
export function outputOf(
  outcome: RequestOutcome,
  refusal: string | undefined,
  respond: (completion: FakeCompletion) => unknown,
): { response: unknown } | { error: unknown } | null {
  if (
    refusal !== undefined &&
    outcome.kind !== "processing" &&
    outcome.kind !== "cancelled" &&
    outcome.kind !== "expired"
  ) {
    return { error: { code: RPC.INVALID_ARGUMENT, message: refusal } };
  }
  switch (outcome.kind) {
    case "succeeded":
      return { response: respond(outcome.completion) };
    case "failed":
      return {
        error: {
          code: RPC.INVALID_ARGUMENT,
          message: "Emulated invalid request (asked for with [emulator:fail]).",
        },
      };
    case "errored":
      return { error: { code: RPC.INTERNAL, message: "Emulated internal error." } };
    default:
      return null;
  }
}

/** A line of the responses file: the response or error first, then the key (the order the API writes them). */
export function responsesFileLine(
  request: SimRequest,
  output: { response: unknown } | { error: unknown },
): string {
  return JSON.stringify({ ...output, key: request.customId });
}

/** An InlinedResponse: the request's metadata echoed, then its response or error. */
export function inlinedResponse(metadata: unknown, output: { response: unknown } | { error: unknown }) {
  return { ...(metadata === undefined ? {} : { metadata }), ...output };
}
