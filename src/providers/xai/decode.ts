import type { ResultStatus, Usage } from "../../types.js";
import { asArray, asNumber, asObject, asString, type JsonObject } from "../shared/json.js";
import { type CompletionFields, parseCompletionBody } from "../shared/openai-shape.js";
import type { ParsedResult } from "../types.js";

/**
 * Result records of `GET /v1/batches/{id}/results`, as the API sends them and as Relay stores them:
 * `{batch_request_id, batch_result: {response: {chat_get_completion: {…chat.completion}}}}` for a success (also for
 * requests sent to the Responses API), or an error in one of three shapes: `batch_result.error` as a string (the
 * official SDK's type and fixture), as a google.rpc.Status `{code, message}`, or a top-level `error_message`.
 */

/** google.rpc.Code names, for errors that carry the numeric code. */
const GRPC_CODES = [
  "ok",
  "cancelled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** An error code as a name: a gRPC number becomes its name; a string is kept (lower-cased when it is a gRPC name). */
function codeName(code: unknown): string | undefined {
  if (typeof code === "number") return GRPC_CODES[code] ?? String(code);
  if (typeof code !== "string" || code === "") return undefined;
  const lower = code.toLowerCase();
  return GRPC_CODES.includes(lower) ? lower : code;
}

/** A request the batch's cancel or deadline stopped is cancelled or expired, not failed. */
function statusOfCode(code: string | undefined): ResultStatus {
  if (code === "cancelled") return "cancelled";
  if (code === "deadline_exceeded") return "expired";
  return "failed";
}

type Failure = { status: ResultStatus; error: { code?: string; message: string } };

/** The record's error, if it has one. A Status whose code is 0 (OK) beside a response is no error. */
function failureOf(record: JsonObject, result: JsonObject | undefined): Failure | null {
  const topLevel = asString(record.error_message);
  if (topLevel) return { status: "failed", error: { message: topLevel } };
  const error = result?.error;
  if (typeof error === "string") return error === "" ? null : { status: "failed", error: { message: error } };
  const status = asObject(error);
  if (!status) return null;
  const code = codeName(status.code);
  const message = asString(status.message) ?? "";
  if ((code === undefined || code === "ok") && message === "") return null;
  const described = message || `the request ended with ${code}`;
  return {
    status: statusOfCode(code),
    error: code === undefined || code === "ok" ? { message: described } : { code, message: described },
  };
}

/**
 * xAI counts reasoning tokens apart from `completion_tokens` (its own spec's example: 32 prompt + 9 completion + 94
 * reasoning = 135 total). Relay's `outputTokens` means every generated token, as OpenAI's does, so they are added in.
 * `prompt_tokens` already includes the cached ones.
 */
function usageOf(usage: JsonObject | undefined): Usage | undefined {
  const inputTokens = asNumber(usage?.prompt_tokens);
  const completion = asNumber(usage?.completion_tokens);
  if (inputTokens === undefined || completion === undefined) return undefined;
  const reasoning = asNumber(asObject(usage?.completion_tokens_details)?.reasoning_tokens);
  const promptDetails = asObject(usage?.prompt_tokens_details);
  const cached = asNumber(promptDetails?.cached_tokens);
  const images = asNumber(promptDetails?.image_tokens);
  const outputTokens = completion + (reasoning ?? 0);
  const result: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  if (cached !== undefined) result.cachedInputTokens = cached;
  if (images) result.imageInputTokens = images;
  if (reasoning !== undefined) result.reasoningTokens = reasoning;
  return result;
}

/** Text, tool calls, finish reason, usage and model of a chat.completion. */
export function parseXaiCompletion(body: JsonObject): CompletionFields {
  const { usage: _openAIUsage, ...parsed } = parseCompletionBody(body);
  // xAI's chat API documents "end_turn" beside "stop" for a finished turn.
  const reason = asString(asObject(asArray(body.choices)[0])?.finish_reason);
  if (reason === "end_turn") parsed.finishReason = "stop";
  const usage = usageOf(asObject(body.usage));
  return usage ? { ...parsed, usage } : parsed;
}

/** One result record, normalised. Returns null for a record with no batch_request_id. */
export function parseXaiRecord(raw: unknown): ParsedResult | null {
  const record = asObject(raw);
  const customId = asString(record?.batch_request_id);
  if (!record || customId === undefined) return null;
  const result = asObject(record.batch_result);
  const failure = failureOf(record, result);
  if (failure) return { customId, result: { ...failure, raw } };
  const completion = asObject(asObject(result?.response)?.chat_get_completion);
  if (completion)
    return { customId, result: { status: "succeeded", ...parseXaiCompletion(completion), raw } };
  // A Response object, should results of Responses-API requests come back under their own kind.
  const response = asObject(asObject(result?.response)?.responses);
  if (response) return { customId, result: { status: "succeeded", ...parseCompletionBody(response), raw } };
  const other = result?.response;
  const kind = typeof other === "string" ? other : Object.keys(asObject(other) ?? {}).join(", ");
  const message = kind
    ? `Unrecognised response ${JSON.stringify(kind)}; Relay reads chat completions only.`
    : "The record holds neither a response nor an error.";
  return { customId, result: { status: "failed", error: { code: "unknown_result", message }, raw } };
}
