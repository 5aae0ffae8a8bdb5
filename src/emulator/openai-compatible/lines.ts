import type { FakeCompletion } from "../completion.js";
import type { RequestOutcome, SimRequest } from "../engine.js";

const seconds = (ms: number) => Math.floor(ms / 1000);

function chatCompletionBody(request: SimRequest, completion: FakeCompletion, now: number, seed: string) {
  return {
    id: `chatcmpl-${seed}`,
    object: "chat.completion",
    created: seconds(now),
    model: request.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: completion.text, refusal: null },
        logprobs: null,
        finish_reason: completion.truncated ? "length" : "stop",
      },
    ],
    usage: {
      prompt_tokens: completion.inputTokens,
      completion_tokens: completion.outputTokens,
      total_tokens: completion.inputTokens + completion.outputTokens,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

function responsesBody(request: SimRequest, completion: FakeCompletion, now: number, seed: string) {
  return {
    id: `resp_${seed}`,
    object: "response",
    created_at: seconds(now),
    status: completion.truncated ? "incomplete" : "completed",
    incomplete_details: completion.truncated ? { reason: "max_output_tokens" } : null,
    model: request.model,
    output: [
      {
        type: "message",
        id: `msg_${seed}`,
        status: completion.truncated ? "incomplete" : "completed",
        role: "assistant",
        content: [{ type: "output_text", text: completion.text, annotations: [] }],
      },
    ],
    usage: {
      input_tokens: completion.inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: completion.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: completion.inputTokens + completion.outputTokens,
    },
  };
}

/** One line of an output or error file, before it is written. */
export interface ResultRecord {
  file: "output" | "error";
  record: Record<string, unknown>;
}

function failure(code: string, message: string) {
  return { code, message };
}

/**
 * The output-file or error-file record for one finished request, in OpenAI's batch format (also used by Together,
 * Groq and Azure). Returns null for a request still processing.
 */
export function openAIResultRecord(
  request: SimRequest,
  outcome: RequestOutcome,
  endpoint: string,
  now: number,
  /** Makes the IDs in the record, so that downloading a file twice gives the same bytes. */
  seed: string,
): ResultRecord | null {
  const base = { id: `batch_req_${seed}`, custom_id: request.customId };
  switch (outcome.kind) {
    case "succeeded": {
      const body = endpoint.endsWith("/responses")
        ? responsesBody(request, outcome.completion, now, seed)
        : chatCompletionBody(request, outcome.completion, now, seed);
      const response = { status_code: 200, request_id: `req_${seed}`, body };
      return { file: "output", record: { ...base, response, error: null } };
    }
    case "failed": {
      const error = {
        message: "Emulated request failure (asked for with [emulator:fail]).",
        type: "invalid_request_error",
        param: null,
        code: "emulated_failure",
      };
      const response = { status_code: 400, request_id: `req_${seed}`, body: { error } };
      return { file: "error", record: { ...base, response, error: null } };
    }
    case "errored":
      return {
        file: "error",
        record: { ...base, response: null, error: failure("server_error", "Emulated server error.") },
      };
    case "expired":
      return {
        file: "error",
        record: {
          ...base,
          response: null,
          error: failure(
            "batch_expired",
            "This request could not be executed before the completion window expired.",
          ),
        },
      };
    case "cancelled":
      return {
        file: "error",
        record: {
          ...base,
          response: null,
          error: failure("batch_cancelled", "This request was not executed because the batch was cancelled."),
        },
      };
    default:
      return null;
  }
}

/** openAIResultRecord as a JSONL line. */
export function openAIResultLine(
  request: SimRequest,
  outcome: RequestOutcome,
  endpoint: string,
  now: number,
  seed: string,
): { file: "output" | "error"; line: string } | null {
  const entry = openAIResultRecord(request, outcome, endpoint, now, seed);
  return entry ? { file: entry.file, line: JSON.stringify(entry.record) } : null;
}
