import type { BatchResult, FinishReason, ToolCall, Usage } from "../../types.js";
import type { ParsedResult } from "../types.js";
import { asArray, asNumber, asObject, asString, type JsonObject } from "./json.js";

/**
 * Result lines in the OpenAI batch format, also used by Together, Groq, Azure and Mistral:
 * `{id, custom_id, response: {status_code, body} | null, error: {code, message} | null}`.
 */

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
  max_output_tokens: "length",
};

function finishReasonOf(value: string | undefined): FinishReason | undefined {
  if (value === undefined) return undefined;
  return FINISH_REASONS[value] ?? "other";
}

function usageOf(usage: JsonObject | undefined): Usage | undefined {
  if (!usage) return undefined;
  // Chat completions name them prompt/completion; the Responses API names them input/output.
  const inputTokens = asNumber(usage.prompt_tokens) ?? asNumber(usage.input_tokens);
  // Embeddings report prompt tokens only.
  const outputTokens =
    asNumber(usage.completion_tokens) ??
    asNumber(usage.output_tokens) ??
    (inputTokens === undefined ? undefined : 0);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  const result: Usage = {
    inputTokens,
    outputTokens,
    totalTokens: asNumber(usage.total_tokens) ?? inputTokens + outputTokens,
  };
  const inputDetails = asObject(usage.prompt_tokens_details) ?? asObject(usage.input_tokens_details);
  const outputDetails = asObject(usage.completion_tokens_details) ?? asObject(usage.output_tokens_details);
  const cached = asNumber(inputDetails?.cached_tokens);
  const reasoning = asNumber(outputDetails?.reasoning_tokens);
  const images = asNumber(inputDetails?.image_tokens);
  if (cached !== undefined) result.cachedInputTokens = cached;
  if (reasoning !== undefined) result.reasoningTokens = reasoning;
  if (images) result.imageInputTokens = images;
  return result;
}

/** A call's arguments: parsed when they are JSON text, kept as given otherwise (Mistral may send an object). */
function argumentsOf(value: unknown): unknown {
  if (typeof value !== "string") return value ?? {};
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** `choices[0].message.tool_calls` of a chat completion: `{id, type: "function", function: {name, arguments}}`. */
function chatToolCalls(message: JsonObject | undefined): ToolCall[] {
  return asArray(message?.tool_calls).flatMap((entry) => {
    const call = asObject(entry);
    const fn = asObject(call?.function);
    const name = asString(fn?.name);
    if (!call || name === undefined) return [];
    return [{ id: asString(call.id) ?? "", name, arguments: argumentsOf(fn?.arguments) }];
  });
}

/** Embedding vectors: a list of numbers, or base64 of little-endian float32s (`encoding_format: "base64"`). */
function vectorOf(value: unknown): number[] | undefined {
  if (Array.isArray(value))
    return value.every((item) => typeof item === "number") ? (value as number[]) : undefined;
  if (typeof value !== "string") return undefined;
  const bytes = Buffer.from(value, "base64");
  const vector = new Array<number>(Math.floor(bytes.length / 4));
  for (let index = 0; index < vector.length; index += 1) vector[index] = bytes.readFloatLE(index * 4);
  return vector;
}

/** What Relay reads from a successful response body. */
export type CompletionFields = Pick<
  BatchResult,
  "text" | "toolCalls" | "embedding" | "finishReason" | "usage" | "model"
>;

/**
 * Text, tool calls, finish reason, usage and model of a successful chat-completion or Responses-API body, or the
 * vector and usage of an embeddings body (`{object: "list", data: [{embedding}]}`).
 */
export function parseCompletionBody(body: JsonObject): CompletionFields {
  const parsed: CompletionFields = {};
  const model = asString(body.model);
  if (model !== undefined) parsed.model = model;
  const choices = asArray(body.choices);
  if (choices.length > 0) {
    const choice = asObject(choices[0]);
    const message = asObject(choice?.message);
    const content = asString(message?.content);
    if (content !== undefined) parsed.text = content;
    const toolCalls = chatToolCalls(message);
    if (toolCalls.length > 0) parsed.toolCalls = toolCalls;
    const reason = finishReasonOf(asString(choice?.finish_reason));
    // A call of a named (forced) tool ends with "stop" at OpenAI; it is a tool call all the same.
    if (toolCalls.length > 0 && (reason === undefined || reason === "stop"))
      parsed.finishReason = "tool_calls";
    else if (reason) parsed.finishReason = reason;
  } else if (Array.isArray(body.output)) {
    const texts: string[] = [];
    const toolCalls: ToolCall[] = [];
    for (const item of asArray(body.output)) {
      const entry = asObject(item);
      if (entry?.type === "function_call") {
        const name = asString(entry.name);
        if (name !== undefined) {
          const id = asString(entry.call_id) ?? asString(entry.id) ?? "";
          toolCalls.push({ id, name, arguments: argumentsOf(entry.arguments) });
        }
      }
      if (entry?.type !== "message") continue;
      for (const part of asArray(entry.content)) {
        const piece = asObject(part);
        const text = asString(piece?.text);
        if (piece?.type === "output_text" && text !== undefined) texts.push(text);
      }
    }
    if (texts.length > 0) parsed.text = texts.join("");
    if (toolCalls.length > 0) parsed.toolCalls = toolCalls;
    const status = asString(body.status);
    const incomplete = asString(asObject(body.incomplete_details)?.reason);
    parsed.finishReason =
      toolCalls.length > 0
        ? "tool_calls"
        : status === "completed"
          ? "stop"
          : (finishReasonOf(incomplete) ?? "other");
  } else if (Array.isArray(body.data)) {
    const vector = vectorOf(asObject(body.data[0])?.embedding);
    if (vector) parsed.embedding = vector;
  }
  const usage = usageOf(asObject(body.usage));
  if (usage) parsed.usage = usage;
  return parsed;
}

/**
 * An embeddings body without its vectors' values, for `raw`: the result carries the vector as `embedding`, and a job
 * of a million vectors should not store each one twice. Each `data[].embedding` becomes a note of its length;
 * everything else is kept as the provider sent it.
 */
export function bodyWithoutVectors(body: JsonObject): JsonObject {
  const data = asArray(body.data).map((item) => {
    const entry = asObject(item);
    if (!entry || entry.embedding === undefined) return item;
    const note = Array.isArray(entry.embedding)
      ? `(${entry.embedding.length} values: in the result's embedding)`
      : "(the vector, as base64: in the result's embedding)";
    return { ...entry, embedding: note };
  });
  return { ...body, data };
}

function errorOf(value: unknown): { code?: string; message: string } {
  const error = asObject(value);
  const code = asString(error?.code) ?? asString(error?.type);
  const message = asString(error?.message) ?? (typeof value === "string" ? value : JSON.stringify(value));
  return code === undefined ? { message } : { code, message };
}

/** One line of an output or error file, normalised. Returns null for a line with no custom_id. */
export function parseOpenAIShapedLine(raw: unknown): ParsedResult | null {
  const record = asObject(raw);
  const customId = asString(record?.custom_id);
  if (!record || customId === undefined) return null;
  const response = asObject(record.response);
  const statusCode = asNumber(response?.status_code);
  const body = asObject(response?.body);
  if (response && body && statusCode !== undefined && statusCode >= 200 && statusCode < 300) {
    const fields = parseCompletionBody(body);
    const kept = fields.embedding
      ? { ...record, response: { ...response, body: bodyWithoutVectors(body) } }
      : raw;
    return { customId, result: { status: "succeeded", ...fields, raw: kept } };
  }
  if (response && statusCode !== undefined) {
    const error = body?.error !== undefined ? errorOf(body.error) : { message: `HTTP ${statusCode}` };
    return {
      customId,
      result: {
        status: "failed",
        error: { code: error.code ?? `http_${statusCode}`, message: error.message },
        raw,
      },
    };
  }
  const error = errorOf(record.error ?? "no response and no error in the provider's record");
  const status =
    error.code === "batch_expired" ? "expired" : error.code === "batch_cancelled" ? "cancelled" : "failed";
  return { customId, result: { status, error, raw } };
}
