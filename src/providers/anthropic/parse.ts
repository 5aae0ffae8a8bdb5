import type { BatchResult, FinishReason, ToolCall, Usage } from "../../types.js";
import { asArray, asNumber, asObject, asString, type JsonObject } from "../shared/json.js";
import type { ParsedResult } from "../types.js";

/**
 * Result lines of the Message Batches API, as the API sends them and as the Python Relay stored them:
 * `{custom_id, result: {type: "succeeded", message} | {type: "errored", error} | {type: "canceled"} | {type: "expired"}}`.
 */

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  // The output was cut short by a token limit too, only the context window's rather than max_tokens.
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/**
 * Anthropic counts cache reads and cache writes apart from `input_tokens`. Relay's `inputTokens` means every prompt
 * token, as OpenAI's does, so they are added in; `cachedInputTokens` says how many of them were cache reads.
 */
function usageOf(usage: JsonObject | undefined): Usage | undefined {
  const uncached = asNumber(usage?.input_tokens);
  const outputTokens = asNumber(usage?.output_tokens);
  if (uncached === undefined || outputTokens === undefined) return undefined;
  const cached = asNumber(usage?.cache_read_input_tokens);
  const written = asNumber(usage?.cache_creation_input_tokens);
  const inputTokens = uncached + (cached ?? 0) + (written ?? 0);
  const result: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  const thinking = asNumber(asObject(usage?.output_tokens_details)?.thinking_tokens);
  if (cached !== undefined) result.cachedInputTokens = cached;
  if (written) result.cacheWriteInputTokens = written;
  if (thinking !== undefined) result.reasoningTokens = thinking;
  return result;
}

/**
 * Text blocks make the text; `tool_use` blocks the tool calls (their `input` is already an object: the arguments).
 * Thinking blocks are left in `raw`.
 */
function succeeded(message: JsonObject | undefined, raw: unknown): Omit<BatchResult, "id"> {
  const result: Omit<BatchResult, "id"> = { status: "succeeded", raw };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  for (const block of asArray(message?.content)) {
    const entry = asObject(block);
    const text = asString(entry?.text);
    if (entry?.type === "text" && text !== undefined) texts.push(text);
    const name = asString(entry?.name);
    if (entry?.type === "tool_use" && name !== undefined) {
      calls.push({ id: asString(entry.id) ?? `call_${calls.length}`, name, arguments: entry.input ?? {} });
    }
  }
  if (texts.length > 0) result.text = texts.join("");
  if (calls.length > 0) result.toolCalls = calls;
  const stopReason = asString(message?.stop_reason);
  if (stopReason !== undefined) result.finishReason = FINISH_REASONS[stopReason] ?? "other";
  const usage = usageOf(asObject(message?.usage));
  if (usage) result.usage = usage;
  const model = asString(message?.model);
  if (model !== undefined) result.model = model;
  return result;
}

/** The error of an errored result: `{type: "error", error: {type, message}}`, or the inner object alone. */
function errorOf(value: unknown): { code?: string; message: string } {
  const outer = asObject(value);
  const inner = outer?.type === "error" && asObject(outer.error) ? asObject(outer.error) : outer;
  const code = asString(inner?.type);
  const message = asString(inner?.message) ?? "the request errored without a message";
  return code === undefined ? { message } : { code, message };
}

/** One result record, normalised. Returns null for a record with no custom_id. */
export function parseAnthropicRecord(raw: unknown): ParsedResult | null {
  const record = asObject(raw);
  const customId = asString(record?.custom_id);
  if (!record || customId === undefined) return null;
  const result = asObject(record.result);
  switch (result?.type) {
    case "succeeded":
      return { customId, result: succeeded(asObject(result.message), raw) };
    case "errored":
      return { customId, result: { status: "failed", error: errorOf(result.error), raw } };
    case "canceled":
      return {
        customId,
        result: {
          status: "cancelled",
          error: { code: "batch_cancelled", message: "The batch was cancelled before this request ran." },
          raw,
        },
      };
    case "expired":
      return {
        customId,
        result: {
          status: "expired",
          error: { code: "batch_expired", message: "The batch expired (24 hours) before this request ran." },
          raw,
        },
      };
    default:
      return {
        customId,
        result: {
          status: "failed",
          error: {
            code: "unknown_result",
            message: `Unrecognised result type ${JSON.stringify(result?.type)}.`,
          },
          raw,
        },
      };
  }
}
