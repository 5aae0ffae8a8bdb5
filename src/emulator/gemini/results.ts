import type { FakeCompletion } from "../completion.js";
import type { RequestOutcome, SimRequest } from "../engine.js";
import { RPC } from "./errors.js";

/** A GenerateContentResponse, in proto3 JSON: zero and empty fields are left out. */
function generateContentResponse(request: SimRequest, completion: FakeCompletion, seed: string) {
  return {
    candidates: [
      {
        content: { parts: [{ text: completion.text }], role: "model" },
        finishReason: completion.truncated ? "MAX_TOKENS" : "STOP",
      },
    ],
    usageMetadata: {
      promptTokenCount: completion.inputTokens,
      candidatesTokenCount: completion.outputTokens,
      totalTokenCount: completion.inputTokens + completion.outputTokens,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: completion.inputTokens }],
    },
    modelVersion: request.model,
    responseId: seed,
  };
}

/** The response or Status of a finished request, or null for one that did not run (pending, cancelled, expired). */
export function outputOf(
  request: SimRequest,
  outcome: RequestOutcome,
  seed: string,
  refusal: string | undefined,
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
      return { response: generateContentResponse(request, outcome.completion, seed) };
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
