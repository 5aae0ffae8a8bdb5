import type { BatchResult } from "../../types.js";
import { asArray, asNumber, asObject, asString, type JsonObject } from "../shared/json.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { errorMessage } from "../shared/rest-client.js";
import type { ParsedResult } from "../types.js";

/**
 * Mistral's result lines follow the OpenAI batch format, `{id, custom_id, response: {status_code, body}, error}`
 * (the batch guide's sample output), with a chat.completion body. What differs is read here: the `model_length`
 * finish reason, the cached-token fields of Mistral's UsageInfo, and Mistral's error bodies
 * (`{"object": "error", "message", "type", "code"}`, or a validation `detail`), which carry no `error` key.
 */
export function parseMistralRecord(raw: unknown): ParsedResult | null {
  const parsed = parseOpenAIShapedLine(raw);
  if (!parsed) return null;
  const response = asObject(asObject(raw)?.response);
  const body = asObject(response?.body);
  if (!body) return parsed;
  if (parsed.result.status === "succeeded") {
    return {
      customId: parsed.customId,
      result: { ...parsed.result, ...completionFixes(body, parsed.result) },
    };
  }
  if (parsed.result.status === "failed" && body.error === undefined) {
    const status = asNumber(response?.status_code) ?? 0;
    return { customId: parsed.customId, result: { ...parsed.result, error: errorOf(status, body) } };
  }
  return parsed;
}

/** Where a Mistral chat.completion says more than the OpenAI reading of it. */
function completionFixes(body: JsonObject, result: Omit<BatchResult, "id">): Partial<BatchResult> {
  const fixes: Partial<BatchResult> = {};
  const choice = asObject(asArray(body.choices)[0]);
  // The model's own context limit cut the reply short.
  if (asString(choice?.finish_reason) === "model_length") fixes.finishReason = "length";
  const usage = asObject(body.usage);
  if (result.usage && result.usage.cachedInputTokens === undefined && usage) {
    const cached =
      asNumber(usage.num_cached_tokens) ?? asNumber(asObject(usage.prompt_token_details)?.cached_tokens);
    if (cached !== undefined) fixes.usage = { ...result.usage, cachedInputTokens: cached };
  }
  return fixes;
}

function errorOf(status: number, body: JsonObject): { code: string; message: string } {
  const code = body.code;
  return {
    code:
      typeof code === "string" && code !== ""
        ? code
        : typeof code === "number"
          ? String(code)
          : (asString(body.type) ?? `http_${status}`),
    message: errorMessage(status, JSON.stringify(body)),
  };
}
