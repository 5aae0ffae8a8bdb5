import type { RequestRejection } from "../engine.js";

/**
 * The body parameters of the Messages API (MessageCreateParams of @anthropic-ai/sdk 1.12, less its header params),
 * plus the sampling parameters older API versions document (temperature, top_p, top_k; UNVERIFIED whether the
 * current API still takes them). Anthropic checks a batch request's params only when the batch runs: a refused
 * one ends as an `errored` result with an invalid_request_error, the other requests are unaffected.
 */
const MESSAGES_PARAMS = new Set([
  "max_tokens",
  "messages",
  "model",
  "cache_control",
  "container",
  "diagnostics",
  "inference_geo",
  "metadata",
  "output_config",
  "service_tier",
  "speed",
  "stop_sequences",
  "stream",
  "system",
  "thinking",
  "tool_choice",
  "tools",
  "temperature",
  "top_p",
  "top_k",
]);

type Json = Record<string, unknown>;

const refuse = (message: string, param: string): RequestRejection => ({
  message,
  code: "invalid_request_error",
  param,
});

/** The error Anthropic gives a request's params once its batch runs, or null when they are taken. */
export function refusedParams(params: Json): RequestRejection | null {
  for (const name of Object.keys(params)) {
    if (!MESSAGES_PARAMS.has(name)) return refuse(`${name}: Extra inputs are not permitted`, name);
  }
  // UNVERIFIED wording; the batch guide says streaming is not supported inside a batch.
  if (params.stream === true)
    return refuse("stream: streaming is not supported in a Message Batch", "stream");
  const bounded = (name: string, min: number, max: number) => {
    const value = params[name];
    if (value === undefined) return null;
    if (typeof value !== "number") return refuse(`${name}: Input should be a valid number`, name);
    if (value < min) return refuse(`${name}: Input should be greater than or equal to ${min}`, name);
    if (value > max) return refuse(`${name}: Input should be less than or equal to ${max}`, name);
    return null;
  };
  const range = bounded("temperature", 0, 1) ?? bounded("top_p", 0, 1);
  if (range) return range;
  if (params.top_k !== undefined && !(Number.isInteger(params.top_k) && (params.top_k as number) >= 0))
    return refuse("top_k: Input should be a non-negative integer", "top_k");
  const stops = params.stop_sequences;
  if (stops !== undefined && !(Array.isArray(stops) && stops.every((stop) => typeof stop === "string")))
    return refuse("stop_sequences: Input should be a valid list of strings", "stop_sequences");
  const thinking = params.thinking as Json | undefined;
  if (thinking !== undefined && thinking?.type === "enabled") {
    const budget = thinking.budget_tokens;
    if (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1024)
      return refuse(
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        "thinking",
      );
    if (typeof params.max_tokens === "number" && budget >= params.max_tokens)
      return refuse("`max_tokens` must be greater than `thinking.budget_tokens`", "max_tokens");
  }
  return null;
}
