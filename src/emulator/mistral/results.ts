import { createHash } from "node:crypto";
import type { FakeCompletion } from "../completion.js";
import type { RequestOutcome } from "../engine.js";
import { answerOf, chatAnswer } from "../openai-compatible/lines.js";
import { mistralErrorBody } from "./errors.js";
import type { ParsedRequest } from "./input.js";

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Hex digits that depend only on `seed`, so that a result file reads the same every time. */
function hexOf(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** A request's line ID as in Mistral's sample output: `batch-<8 hex of the job>-<line number>-<uuid>`. */
function lineId(jobId: string, index: number): string {
  const h = hexOf(`${jobId}/${index}`, 32);
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return `batch-${jobId.replaceAll("-", "").slice(0, 8)}-${index + 1}-${uuid}`;
}

/** A ChatCompletionResponse: tool calls with their `index`, cached prompt tokens as `num_cached_tokens`. */
function chatResponse(id: string, request: ParsedRequest, completion: FakeCompletion, now: number) {
  const answer = answerOf(request, completion);
  const { finishReason } = chatAnswer(answer);
  const toolCalls = answer.toolCalls.map((call, index) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: call.arguments },
    index,
  }));
  return {
    id,
    object: "chat.completion",
    model: request.model,
    usage: {
      prompt_tokens: answer.inputTokens,
      completion_tokens: answer.outputTokens,
      total_tokens: answer.inputTokens + answer.outputTokens,
      ...(answer.cachedTokens > 0 ? { num_cached_tokens: answer.cachedTokens } : {}),
    },
    created: seconds(now),
    choices: [
      {
        index: 0,
        finish_reason: finishReason,
        message: {
          role: "assistant",
          content: answer.text,
          tool_calls: toolCalls.length > 0 ? toolCalls : null,
        },
      },
    ],
  };
}

/** An EmbeddingResponse: one vector per text; UsageInfo requires completion_tokens, here 0. */
function embeddingResponse(id: string, request: ParsedRequest, completion: FakeCompletion) {
  const answer = answerOf(request, completion);
  return {
    id,
    object: "list",
    data: (answer.vectors ?? []).map((embedding, index) => ({ object: "embedding", embedding, index })),
    model: request.model,
    usage: { prompt_tokens: answer.inputTokens, completion_tokens: 0, total_tokens: answer.inputTokens },
  };
}

/**
 * The result record of one finished request, and which file it goes to; null while it is still processing, and
 * for requests an expired or cancelled job never ran (whether Mistral lists those at all is not documented; the
 * emulator does not, and Relay gives them their job's outcome).
 *
 * Successes are verified against the batch guide's sample output file. The shape of a failure is not documented:
 * the emulator writes the OpenAI-style line Mistral's own lines follow, with the status and error body the
 * endpoint would have answered (Mistral's error envelope, or its 422 validation detail).
 */
export function resultRecord(
  jobId: string,
  index: number,
  request: ParsedRequest,
  outcome: RequestOutcome,
  now: number,
  endpoint = "/v1/chat/completions",
): { file: "output" | "error"; record: Record<string, unknown> } | null {
  const base = { id: lineId(jobId, index), custom_id: request.givenCustomId };
  switch (outcome.kind) {
    case "succeeded": {
      const id = hexOf(`${jobId}/${index}/completion`, 32);
      const body =
        endpoint === "/v1/embeddings"
          ? embeddingResponse(id, request, outcome.completion)
          : chatResponse(id, request, outcome.completion, now);
      return { file: "output", record: { ...base, response: { status_code: 200, body }, error: null } };
    }
    case "failed": {
      const body = request.problems
        ? mistralErrorBody(422, "", { detail: request.problems })
        : mistralErrorBody(
            400,
            "emulated_failure",
            "Emulated request failure (asked for with [emulator:fail]).",
          );
      const status = request.problems ? 422 : 400;
      return { file: "error", record: { ...base, response: { status_code: status, body }, error: null } };
    }
    case "errored":
      return {
        file: "error",
        record: {
          ...base,
          response: null,
          error: { message: "Emulated server error.", code: "server_error" },
        },
      };
    default:
      return null;
  }
}
