import type { RequestOutcome, SimRequest } from "../engine.js";
import { openAIResultRecord } from "../openai-compatible/lines.js";

export const CHAT_COMPLETIONS = "/v1/chat/completions";

/** Error-file entries in Together's documented shape: `{"custom_id", "error": {"message", "code"}}`. */
const ERRORS: Partial<Record<RequestOutcome["kind"], { message: string; code: string }>> = {
  failed: { message: "Emulated request failure (asked for with [emulator:fail]).", code: "emulated_failure" },
  errored: { message: "Emulated server error.", code: "server_error" },
  // Whether Together lists unprocessed requests of an expired or cancelled batch at all is UNVERIFIED; the
  // emulator lists them, as OpenAI does, and Relay copes either way.
  expired: { message: "The batch expired before this request was processed.", code: "batch_expired" },
  cancelled: {
    message: "The batch was cancelled before this request was processed.",
    code: "batch_cancelled",
  },
};

type Json = Record<string, unknown>;

/** Together's tool calls carry their `index` (its ToolChoice schema requires it). */
function withToolCallIndexes(record: Json): Json {
  const body = (record.response as Json | undefined)?.body as { choices?: { message?: Json }[] } | undefined;
  const message = body?.choices?.[0]?.message;
  const calls = message?.tool_calls;
  if (message && Array.isArray(calls)) message.tool_calls = calls.map((call, index) => ({ ...call, index }));
  return record;
}

/**
 * The output-file or error-file line of one finished request: successes in the OpenAI batch format (which
 * Together's output follows), failures in Together's error shape. Null while the request is still processing.
 */
export function togetherResultLine(
  request: SimRequest,
  outcome: RequestOutcome,
  now: number,
  seed: string,
): { file: "output" | "error"; line: string } | null {
  if (outcome.kind === "succeeded") {
    const entry = openAIResultRecord(request, outcome, CHAT_COMPLETIONS, now, seed);
    return entry ? { file: entry.file, line: JSON.stringify(withToolCallIndexes(entry.record)) } : null;
  }
  // A body the chat endpoint refuses fails with what the endpoint answered (the wording is UNVERIFIED).
  const error =
    outcome.kind === "failed" && outcome.rejection
      ? { message: outcome.rejection.message, code: outcome.rejection.code ?? "invalid_request_error" }
      : ERRORS[outcome.kind];
  return error ? { file: "error", line: JSON.stringify({ custom_id: request.customId, error }) } : null;
}
