import { ValidationError } from "../../errors.js";
import type { BatchRequest } from "../../types.js";
import { anthropicConversation } from "./content.js";
import { checkThinkingCombination, MIN_THINKING_BUDGET, thinkingForEffort } from "./thinking.js";
import { anthropicTools, formatOf } from "./tools.js";

export { MIN_THINKING_BUDGET } from "./thinking.js";

/**
 * The `max_tokens` Relay sends when a request sets no `maxTokens` (Anthropic requires the field). 4096 fits every
 * current Claude model's output limit; raise it per request with `maxTokens` or `providerArgs.max_tokens`.
 */
export const DEFAULT_MAX_TOKENS = 4096;

const unsupported = (request: BatchRequest, message: string) =>
  new ValidationError(`request "${request.id}": ${message}`, "unsupported_feature");

/** `providerArgs.thinking_budget_tokens` (the Python Relay's shorthand) as Anthropic's `thinking` parameter. */
function thinkingOf(request: BatchRequest, budget: unknown): Record<string, unknown> {
  if (budget === undefined) return {};
  if (typeof budget !== "number" || !Number.isInteger(budget) || budget < MIN_THINKING_BUDGET) {
    throw new ValidationError(
      `request "${request.id}": providerArgs.thinking_budget_tokens must be an integer of at least ` +
        `${MIN_THINKING_BUDGET} (Anthropic's minimum), not ${JSON.stringify(budget)}.`,
    );
  }
  if (request.reasoningEffort !== undefined) {
    throw new ValidationError(
      `request "${request.id}": give reasoningEffort or providerArgs.thinking_budget_tokens, not both.`,
    );
  }
  return { thinking: { type: "enabled", budget_tokens: budget } };
}

/** temperature, top_p and stop_sequences, as far as Anthropic takes them. */
function samplingOf(request: BatchRequest): Record<string, unknown> {
  const sampling: Record<string, unknown> = {};
  if (request.temperature !== undefined) {
    if (request.temperature > 1) throw unsupported(request, "Anthropic takes temperature from 0 to 1.");
    sampling.temperature = request.temperature;
  }
  if (request.topP !== undefined) {
    // "You should either alter temperature or top_p, but not both"; current models refuse both together.
    if (request.temperature !== undefined)
      throw unsupported(request, "Anthropic takes temperature or topP, not both.");
    sampling.top_p = request.topP;
  }
  if (request.stopSequences !== undefined) sampling.stop_sequences = request.stopSequences;
  return sampling;
}

/**
 * The Messages API parameters of one request: Relay's fields first, then `providerArgs` over them. Batches are
 * created with anthropic-version 2023-06-01, under which the Messages API still takes temperature and top_p
 * (version 2026-10-21 refuses them).
 */
export function anthropicParams(request: BatchRequest): Record<string, unknown> {
  const { thinking_budget_tokens, ...rest } = request.providerArgs ?? {};
  const { system, messages } = anthropicConversation(request);
  const format = formatOf(request);
  const tools = anthropicTools(request, format);
  const choice = (tools.tool_choice as { type?: string } | undefined)?.type;
  let maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
  let thinking: Record<string, unknown> = thinkingOf(request, thinking_budget_tokens);
  if (request.reasoningEffort !== undefined) {
    checkThinkingCombination(request, choice === "any" || choice === "tool");
    const effort = thinkingForEffort(request, request.reasoningEffort, DEFAULT_MAX_TOKENS);
    thinking = { thinking: effort.thinking };
    maxTokens = effort.max_tokens;
  }
  const params: Record<string, unknown> = {
    model: request.model,
    max_tokens: maxTokens,
    ...(system === undefined ? {} : { system }),
    messages,
    ...tools,
    ...samplingOf(request),
    ...thinking,
    ...rest,
  };
  const budget = (params.thinking as { budget_tokens?: unknown } | undefined)?.budget_tokens;
  if (typeof budget === "number" && typeof params.max_tokens === "number" && budget >= params.max_tokens) {
    // Anthropic errors such a request only once the batch runs; saying so now saves a wasted batch.
    throw new ValidationError(
      `request "${request.id}": the thinking budget (${budget} tokens) must be below max_tokens ` +
        `(${params.max_tokens}); raise maxTokens.`,
    );
  }
  return params;
}

/** One line of a shard: a Message Batches request `{custom_id, params}`. */
export function encodeAnthropicLine(request: BatchRequest): string {
  return JSON.stringify({ custom_id: request.id, params: anthropicParams(request) });
}
