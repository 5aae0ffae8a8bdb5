import { OpenAICompatibleAdapter } from "../shared/openai-compatible/adapter.js";
import { CHAT_COMPLETIONS } from "../shared/openai-compatible/encode.js";
import type { ResolvedProviderConfig } from "../types.js";
import { GROQ_LINES } from "./encode.js";
import { groqEntry } from "./entry.js";
import { groqCompletionWindow } from "./window.js";

/** Every path of Groq's OpenAI-compatible API sits under the host root's `/openai/v1` (as `groq-sdk` sends it). */
const GROQ_API_PATH = "/openai/v1";

/**
 * Groq's Files and Batches APIs: OpenAI's protocol under `/openai/v1`, chat completions only, a completion window
 * of 24 hours to 7 days, and a batch list that answers every batch at once.
 */
export function createGroqAdapter(config: ResolvedProviderConfig): OpenAICompatibleAdapter {
  const completionWindow = groqCompletionWindow(config.completionWindow);
  const root = (config.baseURL ?? groqEntry.defaultBaseURL).replace(/\/+$/, "");
  return new OpenAICompatibleAdapter(groqEntry, config, {
    apiBaseURL: `${root}${GROQ_API_PATH}`,
    endpoints: [CHAT_COMPLETIONS],
    completionWindow,
    listing: "single",
    lines: GROQ_LINES,
  });
}
