import type { RequestRejection } from "../engine.js";

/**
 * The body parameters each endpoint takes, from shared/specs/openai-openapi.yaml (CreateChatCompletionRequest and
 * CreateResponse, with the properties of the schemas they build on). A request line with any other parameter
 * fails when the batch runs, with the error the endpoint answers.
 */
const CHAT_COMPLETIONS_PARAMS = new Set([
  "audio",
  "frequency_penalty",
  "function_call",
  "functions",
  "logit_bias",
  "logprobs",
  "max_completion_tokens",
  "max_tokens",
  "messages",
  "metadata",
  "modalities",
  "model",
  "moderation",
  "n",
  "parallel_tool_calls",
  "prediction",
  "presence_penalty",
  "prompt_cache_key",
  "prompt_cache_options",
  "prompt_cache_retention",
  "reasoning_effort",
  "response_format",
  "safety_identifier",
  "seed",
  "service_tier",
  "stop",
  "store",
  "stream",
  "stream_options",
  "temperature",
  "tool_choice",
  "tools",
  "top_logprobs",
  "top_p",
  "user",
  "verbosity",
  "web_search_options",
]);

const RESPONSES_PARAMS = new Set([
  "background",
  "context_management",
  "conversation",
  "include",
  "input",
  "instructions",
  "max_output_tokens",
  "max_tool_calls",
  "metadata",
  "model",
  "moderation",
  "parallel_tool_calls",
  "previous_response_id",
  "prompt",
  "prompt_cache_key",
  "prompt_cache_options",
  "prompt_cache_retention",
  "reasoning",
  "safety_identifier",
  "service_tier",
  "store",
  "stream",
  "stream_options",
  "temperature",
  "text",
  "tool_choice",
  "tools",
  "top_logprobs",
  "top_p",
  "truncation",
  "user",
]);

type Json = Record<string, unknown>;

/** Bounds of the numeric parameters both endpoints share, as the spec states them. */
const RANGES: Record<string, { min: number; max?: number; integer?: boolean }> = {
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1 },
  frequency_penalty: { min: -2, max: 2 },
  presence_penalty: { min: -2, max: 2 },
  n: { min: 1, max: 128, integer: true },
  max_tokens: { min: 1, integer: true },
  max_completion_tokens: { min: 1, integer: true },
  max_output_tokens: { min: 1, integer: true },
  top_logprobs: { min: 0, max: 20, integer: true },
};

function rangeError(name: string, value: unknown): RequestRejection | null {
  const range = RANGES[name];
  if (!range || value === null) return null;
  const kind = range.integer ? "integer" : "decimal";
  if (typeof value !== "number" || (range.integer && !Number.isInteger(value))) {
    return {
      message: `Invalid type for '${name}': expected ${range.integer ? "an integer" : "a decimal"}, but got ${typeof value} instead.`,
      code: `invalid_type`,
      param: name,
    };
  }
  if (value < range.min) {
    return {
      message: `Invalid '${name}': ${kind} below minimum value. Expected a value >= ${range.min}, but got ${value} instead.`,
      code: `${kind}_below_min_value`,
      param: name,
    };
  }
  if (range.max !== undefined && value > range.max) {
    return {
      message: `Invalid '${name}': ${kind} above maximum value. Expected a value <= ${range.max}, but got ${value} instead.`,
      code: `${kind}_above_max_value`,
      param: name,
    };
  }
  return null;
}

/**
 * What the endpoint answers for a request body it refuses, or null when it takes it. Chat completions refuses an
 * unknown parameter with "Unrecognized request argument supplied" (no code); the Responses API with
 * "Unknown parameter" and code `unknown_parameter`.
 */
export function refusedParameters(endpoint: string, body: Json): RequestRejection | null {
  const chat = endpoint === "/v1/chat/completions";
  const known = chat ? CHAT_COMPLETIONS_PARAMS : endpoint === "/v1/responses" ? RESPONSES_PARAMS : null;
  if (!known) return null;
  for (const name of Object.keys(body)) {
    if (known.has(name)) continue;
    return chat
      ? { message: `Unrecognized request argument supplied: ${name}`, code: null, param: null }
      : { message: `Unknown parameter: '${name}'.`, code: "unknown_parameter", param: name };
  }
  if (chat && (!Array.isArray(body.messages) || body.messages.length === 0)) {
    return {
      message: "Missing required parameter: 'messages'.",
      code: "missing_required_parameter",
      param: "messages",
    };
  }
  if (
    !chat &&
    body.input === undefined &&
    body.prompt === undefined &&
    body.previous_response_id === undefined
  ) {
    return {
      message: "Missing required parameter: 'input'.",
      code: "missing_required_parameter",
      param: "input",
    };
  }
  for (const [name, value] of Object.entries(body)) {
    const error = rangeError(name, value);
    if (error) return error;
  }
  return null;
}

/** The request fields a Response object echoes (the schema requires them), with the API's defaults. */
export function responsesEcho(body: Json): Record<string, unknown> {
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    temperature: body.temperature ?? 1,
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
  };
}
