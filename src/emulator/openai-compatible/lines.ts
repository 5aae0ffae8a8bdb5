import type { FakeCompletion } from "../completion.js";
import type { RequestOutcome, SimRequest } from "../engine.js";
import { type Reply, replyTo } from "../reply.js";

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The answer to a request: from its plan when it has one, else the plain fake completion. */
export function answerOf(request: SimRequest, completion: FakeCompletion): Reply {
  if (request.reply) return replyTo(request.reply, completion, request.maxTokens);
  return {
    text: completion.text,
    toolCalls: [],
    inputTokens: completion.inputTokens,
    outputTokens: completion.outputTokens,
    reasoningTokens: 0,
    cachedTokens: 0,
    imageTokens: 0,
    truncated: completion.truncated,
  };
}

/** A chat completion's `message`, `finish_reason` and `usage` for an answer (OpenAI's CreateChatCompletionResponse). */
export function chatAnswer(answer: Reply) {
  const calls = answer.toolCalls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    message: {
      role: "assistant",
      content: answer.text,
      refusal: null,
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    },
    finishReason: calls.length > 0 ? "tool_calls" : answer.truncated ? "length" : "stop",
    usage: {
      prompt_tokens: answer.inputTokens,
      completion_tokens: answer.outputTokens,
      total_tokens: answer.inputTokens + answer.outputTokens,
      prompt_tokens_details: { cached_tokens: answer.cachedTokens },
      completion_tokens_details: { reasoning_tokens: answer.reasoningTokens },
    },
  };
}

function chatCompletionBody(request: SimRequest, completion: FakeCompletion, now: number, seed: string) {
  const { message, finishReason, usage } = chatAnswer(answerOf(request, completion));
  return {
    id: `chatcmpl-${seed}`,
    object: "chat.completion",
    created: seconds(now),
    model: request.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    usage,
  };
}

/** A Response object: every key the published schema requires, request fields echoed as the API does. */
function responsesBody(request: SimRequest, completion: FakeCompletion, now: number, seed: string) {
  const answer = answerOf(request, completion);
  const incomplete = answer.truncated && answer.toolCalls.length === 0;
  const output: Record<string, unknown>[] = answer.toolCalls.map((call, index) => ({
    type: "function_call",
    id: `fc_${seed}${index}`,
    call_id: call.id,
    name: call.name,
    arguments: call.arguments,
    status: "completed",
  }));
  if (answer.text !== null) {
    output.push({
      type: "message",
      id: `msg_${seed}`,
      status: incomplete ? "incomplete" : "completed",
      role: "assistant",
      content: [{ type: "output_text", text: answer.text, annotations: [], logprobs: [] }],
    });
  }
  return {
    id: `resp_${seed}`,
    object: "response",
    created_at: seconds(now),
    status: incomplete ? "incomplete" : "completed",
    ...(incomplete ? {} : { completed_at: seconds(now) }),
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    ...(request.echo ?? {
      instructions: null,
      max_output_tokens: null,
      metadata: {},
      parallel_tool_calls: true,
      temperature: 1,
      tool_choice: "auto",
      tools: [],
      top_p: 1,
    }),
    model: request.model,
    output,
    usage: {
      input_tokens: answer.inputTokens,
      input_tokens_details: { cached_tokens: answer.cachedTokens, cache_write_tokens: 0 },
      output_tokens: answer.outputTokens,
      output_tokens_details: { reasoning_tokens: answer.reasoningTokens },
      total_tokens: answer.inputTokens + answer.outputTokens,
    },
  };
}

/** An embeddings answer (CreateEmbeddingResponse): one vector per text, prompt tokens only. */
export function embeddingsBody(request: SimRequest, completion: FakeCompletion) {
  const answer = answerOf(request, completion);
  return {
    object: "list",
    data: (answer.vectors ?? []).map((embedding, index) => ({ object: "embedding", index, embedding })),
    model: request.model,
    usage: { prompt_tokens: answer.inputTokens, total_tokens: answer.inputTokens },
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
        : endpoint.endsWith("/embeddings")
          ? embeddingsBody(request, outcome.completion)
          : chatCompletionBody(request, outcome.completion, now, seed);
      const response = { status_code: 200, request_id: `req_${seed}`, body };
      return { file: "output", record: { ...base, response, error: null } };
    }
    case "failed": {
      const error = outcome.rejection
        ? { ...outcome.rejection, type: "invalid_request_error" }
        : {
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
