import type { BatchResult, FinishReason, Usage } from "../../types.js";
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
  const outputTokens = asNumber(usage.completion_tokens) ?? asNumber(usage.output_tokens);
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
  if (cached !== undefined) result.cachedInputTokens = cached;
  if (reasoning !== undefined) result.reasoningTokens = reasoning;
  return result;
}

/** Text, finish reason, usage and model of a successful chat-completion or Responses-API body. */
export function parseCompletionBody(
  body: JsonObject,
): Pick<BatchResult, "text" | "finishReason" | "usage" | "model"> {
  const parsed: Pick<BatchResult, "text" | "finishReason" | "usage" | "model"> = {};
  const model = asString(body.model);
  if (model !== undefined) parsed.model = model;
  const choices = asArray(body.choices);
  if (choices.length > 0) {
    const choice = asObject(choices[0]);
    const message = asObject(choice?.message);
    const content = asString(message?.content);
    if (content !== undefined) parsed.text = content;
    const toolCalls = asArray(message?.tool_calls);
    const reason = finishReasonOf(asString(choice?.finish_reason));
    if (reason) parsed.finishReason = reason;
    else if (toolCalls.length > 0) parsed.finishReason = "tool_calls";
  } else if (Array.isArray(body.output)) {
    const texts: string[] = [];
    let calledTool = false;
    for (const item of asArray(body.output)) {
      const entry = asObject(item);
      if (entry?.type === "function_call") calledTool = true;
      if (entry?.type !== "message") continue;
      for (const part of asArray(entry.content)) {
        const piece = asObject(part);
        const text = asString(piece?.text);
        if (piece?.type === "output_text" && text !== undefined) texts.push(text);
      }
    }
    if (texts.length > 0) parsed.text = texts.join("");
    const status = asString(body.status);
    const incomplete = asString(asObject(body.incomplete_details)?.reason);
    parsed.finishReason = calledTool
      ? "tool_calls"
      : status === "completed"
        ? "stop"
        : (finishReasonOf(incomplete) ?? "other");
  }
  const usage = usageOf(asObject(body.usage));
  if (usage) parsed.usage = usage;
  return parsed;
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
    return { customId, result: { status: "succeeded", ...parseCompletionBody(body), raw } };
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
