import type { BatchResult, FinishReason, ToolCall, Usage } from "../../types.js";
import { asArray, asNumber, asObject, asString, type JsonObject } from "../shared/json.js";
import type { ParsedResult } from "../types.js";

/**
 * Gemini batch results, as the API sends them and as Relay stores them (`raw`):
 * - a line of the responses file: `{"key", "response": GenerateContentResponse}` or `{"key", "error": Status}`;
 * - an inlined response: `{"metadata": {"key", …}, "response" | "error"}`.
 */

const FINISH_REASONS: Record<string, FinishReason> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  UNEXPECTED_TOOL_CALL: "tool_calls",
};

/** google.rpc.Code: a Status carries the number, HTTP error bodies the name. */
const RPC_CODES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** A Status (`{code, message, details}`, or an HTTP error body's `{code, message, status}`) as Relay's error. */
export function statusError(value: unknown): { code?: string; message: string } {
  const status = asObject(value);
  const number = asNumber(status?.code);
  const code =
    asString(status?.status) ?? (number === undefined ? undefined : (RPC_CODES[number] ?? String(number)));
  const message = asString(status?.message) ?? "the request failed without a message";
  return code === undefined ? { message } : { code, message };
}

/** int64 counts arrive as strings in proto JSON (embedding `tokenCount`), plain numbers elsewhere. */
function count(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : asNumber(value);
  return number;
}

/** The image tokens of the prompt: the IMAGE entry of `promptTokensDetails`. */
function imageTokensOf(metadata: JsonObject): number | undefined {
  for (const entry of asArray(metadata.promptTokensDetails)) {
    const detail = asObject(entry);
    if (detail?.modality === "IMAGE") return asNumber(detail.tokenCount);
  }
  return undefined;
}

/**
 * Gemini counts thinking tokens apart from the answer's (`candidatesTokenCount` excludes them) and bills them as
 * output. Relay's `outputTokens` means every generated token, as OpenAI's does, so they are added in and also
 * reported as `reasoningTokens`. `promptTokenCount` already includes the cached tokens and the images.
 */
function usageOf(metadata: JsonObject | undefined): Usage | undefined {
  if (!metadata) return undefined;
  const count = (key: string) => asNumber(metadata[key]) ?? 0;
  const inputTokens = count("promptTokenCount");
  const thoughts = asNumber(metadata.thoughtsTokenCount);
  const outputTokens = count("candidatesTokenCount") + (thoughts ?? 0);
  const usage: Usage = {
    inputTokens,
    outputTokens,
    totalTokens: asNumber(metadata.totalTokenCount) ?? inputTokens + outputTokens,
  };
  const cached = asNumber(metadata.cachedContentTokenCount);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  const images = imageTokensOf(metadata);
  if (images !== undefined) usage.imageInputTokens = images;
  return usage;
}

type Parsed = Pick<BatchResult, "text" | "toolCalls" | "finishReason" | "usage">;

/**
 * Text, tool calls, finish reason and usage of a GenerateContentResponse: the first candidate's parts, thoughts left
 * out. A `functionCall` part is a tool call (`args` are already an object); the Developer API often gives calls no
 * `id`, so one is made from their place.
 */
export function parseGenerateContentResponse(response: JsonObject): Parsed {
  const parsed: Parsed = {};
  const candidate = asObject(asArray(response.candidates)[0]);
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  for (const part of asArray(asObject(candidate?.content)?.parts)) {
    const piece = asObject(part);
    const call = asObject(piece?.functionCall);
    const name = asString(call?.name);
    if (call && name !== undefined) {
      calls.push({ id: asString(call.id) ?? `call_${calls.length}`, name, arguments: call.args ?? {} });
    }
    const text = asString(piece?.text);
    if (text !== undefined && piece?.thought !== true) texts.push(text);
  }
  if (texts.length > 0) parsed.text = texts.join("");
  if (calls.length > 0) parsed.toolCalls = calls;
  const calledTool = calls.length > 0;
  const reason = asString(candidate?.finishReason);
  if (calledTool && (reason === undefined || reason === "STOP")) parsed.finishReason = "tool_calls";
  else if (reason !== undefined) parsed.finishReason = FINISH_REASONS[reason] ?? "other";
  else if (!candidate && asString(asObject(response.promptFeedback)?.blockReason)) {
    // The prompt itself was blocked: an answer with no candidates.
    parsed.finishReason = "content_filter";
  }
  const usage = usageOf(asObject(response.usageMetadata));
  if (usage) parsed.usage = usage;
  return parsed;
}

/** The request's key: top-level in a file line, in `metadata` for an inlined response. */
function keyOf(record: JsonObject): string | undefined {
  return asString(record.key) ?? asString(asObject(record.metadata)?.key);
}

/**
 * An embedding response (`{embedding: {values}, tokenCount}`): the vector, and the record as `raw` without the
 * values, so that a job's results do not hold every vector twice.
 */
function embeddingResult(
  record: JsonObject,
  response: JsonObject,
  embedding: JsonObject,
): Omit<BatchResult, "id"> {
  const values = asArray(embedding.values).filter((value): value is number => typeof value === "number");
  const { values: _values, ...rest } = embedding;
  const raw = { ...record, response: { ...response, embedding: rest } };
  const tokens = count(response.tokenCount);
  return {
    status: "succeeded",
    embedding: values,
    ...(tokens === undefined ? {} : { usage: { inputTokens: tokens, outputTokens: 0, totalTokens: tokens } }),
    raw,
  };
}

/** One result record, normalised. Returns null for a record without a key. */
export function parseGeminiRecord(raw: unknown): ParsedResult | null {
  const record = asObject(raw);
  const customId = record ? keyOf(record) : undefined;
  if (!record || customId === undefined) return null;
  const response = asObject(record.response);
  const embedding = asObject(response?.embedding);
  if (response && embedding) return { customId, result: embeddingResult(record, response, embedding) };
  if (response)
    return { customId, result: { status: "succeeded", ...parseGenerateContentResponse(response), raw } };
  // Files hold "a GenerateContentResponse or a status object": `error` as documented, `status` as some readers see.
  const failure = record.error ?? record.status;
  const error =
    failure === undefined
      ? { code: "unknown_result", message: "The record holds neither a response nor an error." }
      : statusError(failure);
  return { customId, result: { status: error.code === "CANCELLED" ? "cancelled" : "failed", error, raw } };
}
