import { ValidationError } from "../../errors.js";
import { textOf } from "../../requests/parts.js";
import type { BatchRequest, ChatMessage } from "../../types.js";
import { chatMessages } from "../shared/messages.js";

/**
 * The `max_tokens` Relay sends when a request sets no `maxTokens` (Anthropic requires the field). 4096 fits every
 * current Claude model's output limit; raise it per request with `maxTokens` or `providerArgs.max_tokens`.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's smallest extended-thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

type Conversation = { system: string | undefined; messages: ChatMessage[] };

/**
 * Anthropic has no system role inside `messages`: the system prompt and any system turns of a multi-turn
 * request become the top-level `system` parameter, in the order given.
 */
function splitSystem(request: BatchRequest): Conversation {
  const systemParts = request.systemPrompt ? [request.systemPrompt] : [];
  const messages: ChatMessage[] = [];
  for (const message of chatMessages(request, { includeSystem: false })) {
    if (message.role === "system") systemParts.push(textOf(message.content));
    else messages.push(message);
  }
  return { system: systemParts.length > 0 ? systemParts.join("\n\n") : undefined, messages };
}

/** `providerArgs.thinking_budget_tokens` (the Python Relay's shorthand) as Anthropic's `thinking` parameter. */
function thinkingOf(request: BatchRequest, budget: unknown): Record<string, unknown> {
  if (budget === undefined) return {};
  if (typeof budget !== "number" || !Number.isInteger(budget) || budget < MIN_THINKING_BUDGET) {
    throw new ValidationError(
      `request "${request.id}": providerArgs.thinking_budget_tokens must be an integer of at least ` +
        `${MIN_THINKING_BUDGET} (Anthropic's minimum), not ${JSON.stringify(budget)}.`,
    );
  }
  return { thinking: { type: "enabled", budget_tokens: budget } };
}

/** The Messages API parameters of one request: Relay's fields first, then `providerArgs` over them. */
export function anthropicParams(request: BatchRequest): Record<string, unknown> {
  const { thinking_budget_tokens, ...rest } = request.providerArgs ?? {};
  const { system, messages } = splitSystem(request);
  const params: Record<string, unknown> = {
    model: request.model,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(system === undefined ? {} : { system }),
    messages,
    ...thinkingOf(request, thinking_budget_tokens),
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
