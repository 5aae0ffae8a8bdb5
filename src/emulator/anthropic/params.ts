import type { RequestRejection } from "../engine.js";
import {
  checkMessages,
  checkOutputConfig,
  checkSystem,
  checkToolChoice,
  checkTools,
  refuse,
} from "./checks.js";

/**
 * The body parameters of the Messages API (MessageCreateParams of @anthropic-ai/sdk 1.12, less its header params),
 * plus the sampling parameters of API version 2023-06-01 (temperature, top_p, top_k), which version 2026-10-21
 * removed. Anthropic checks a batch request's params only when the batch runs: a refused one ends as an `errored`
 * result with an invalid_request_error, the other requests are unaffected.
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

const SAMPLING_PARAMS = ["temperature", "top_p", "top_k"];
/** The API version that removed the sampling parameters ("temperature: Extra inputs are not permitted"). */
const SAMPLING_REMOVED_IN = "2026-10-21";

type Json = Record<string, unknown>;

/**
 * The error Anthropic gives a request's params once its batch runs, or null when they are taken. `apiVersion` is
 * the `anthropic-version` the batch was created with.
 */
export function refusedParams(params: Json, apiVersion = "2023-06-01"): RequestRejection | null {
  for (const name of Object.keys(params)) {
    const removed = SAMPLING_PARAMS.includes(name) && apiVersion >= SAMPLING_REMOVED_IN;
    if (!MESSAGES_PARAMS.has(name) || removed) return refuse(`${name}: Extra inputs are not permitted`, name);
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
  if (params.temperature !== undefined && params.top_p !== undefined) {
    return refuse(
      "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
      "temperature",
    );
  }
  if (params.top_k !== undefined && !(Number.isInteger(params.top_k) && (params.top_k as number) >= 0))
    return refuse("top_k: Input should be a non-negative integer", "top_k");
  const stops = params.stop_sequences;
  if (stops !== undefined && !(Array.isArray(stops) && stops.every((stop) => typeof stop === "string")))
    return refuse("stop_sequences: Input should be a valid list of strings", "stop_sequences");
  const content = checkSystem(params.system) ?? checkMessages((params.messages as Json[] | undefined) ?? []);
  if (content) return content;
  const tools = checkTools(params.tools);
  if (tools.problem) return tools.problem;
  const choice = checkToolChoice(params.tool_choice, tools.names) ?? checkOutputConfig(params.output_config);
  if (choice) return choice;
  const thinking = params.thinking as Json | undefined;
  if (thinking !== undefined && thinking?.type === "enabled") {
    const forced = (params.tool_choice as Json | undefined)?.type;
    if (forced === "any" || forced === "tool")
      return refuse("Thinking may not be enabled when tool_choice forces tool use.", "thinking");
    // UNVERIFIED wording of the two below.
    if (params.temperature !== undefined && params.temperature !== 1)
      return refuse("`temperature` may only be set to 1 when thinking is enabled.", "temperature");
    if (typeof params.top_p === "number" && params.top_p < 0.95)
      return refuse("`top_p` must be between 0.95 and 1 when thinking is enabled.", "top_p");
    if (params.top_k !== undefined) return refuse("`top_k` cannot be set when thinking is enabled.", "top_k");
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
