import { ValidationError } from "../../errors.js";
import type { BatchRequest, ReasoningEffort } from "../../types.js";

/** Anthropic's smallest extended-thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * Extended-thinking budgets (`thinking.budget_tokens`) for `reasoningEffort`. Anthropic takes a token budget, not a
 * level, so Relay documents this table; `high` plus the default answer room stays within the 32,000-token output
 * limit of the smallest current models.
 */
export const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  minimal: 1024,
  low: 4096,
  medium: 12_288,
  high: 24_576,
};

/** Tokens kept for the answer when `maxTokens` bounds thinking and answer together (Anthropic counts both). */
export const MIN_ANSWER_TOKENS = 1024;

/**
 * `thinking` and `max_tokens` for a request's reasoningEffort. Without maxTokens the answer keeps its default room
 * and the budget is added on top; with maxTokens, the budget is the table's, lowered to leave MIN_ANSWER_TOKENS
 * for the answer (Anthropic requires the budget below max_tokens).
 */
export function thinkingForEffort(
  request: BatchRequest,
  effort: ReasoningEffort,
  defaultMaxTokens: number,
): { thinking: Record<string, unknown>; max_tokens: number } {
  const wanted = THINKING_BUDGETS[effort];
  if (request.maxTokens === undefined) {
    return { thinking: { type: "enabled", budget_tokens: wanted }, max_tokens: defaultMaxTokens + wanted };
  }
  const budget = Math.min(wanted, request.maxTokens - MIN_ANSWER_TOKENS);
  if (budget < MIN_THINKING_BUDGET) {
    throw new ValidationError(
      `request "${request.id}": reasoningEffort on Anthropic needs maxTokens of at least ` +
        `${MIN_THINKING_BUDGET + MIN_ANSWER_TOKENS} (a thinking budget of ${MIN_THINKING_BUDGET} plus room for the ` +
        `answer), not ${request.maxTokens}.`,
    );
  }
  return { thinking: { type: "enabled", budget_tokens: budget }, max_tokens: request.maxTokens };
}

/**
 * What extended thinking cannot be combined with, refused before sending (Anthropic would error each such request
 * once the batch runs): a changed temperature, top_p below 0.95, and a tool choice that forces a tool.
 */
export function checkThinkingCombination(request: BatchRequest, forcesTool: boolean): void {
  const label = `request "${request.id}"`;
  const refuse = (what: string) =>
    new ValidationError(
      `${label}: Anthropic's extended thinking (reasoningEffort) ${what}.`,
      "unsupported_feature",
    );
  if (request.temperature !== undefined) throw refuse("cannot be combined with temperature");
  if (request.topP !== undefined && request.topP < 0.95) throw refuse("takes topP only from 0.95 to 1");
  if (forcesTool) {
    throw refuse(
      'cannot be combined with a forced tool (toolChoice "required" or { name }, or a responseFormat with strict: false)',
    );
  }
}
