import type { ChatDialect } from "../shared/openai-compatible/chat.js";
import type { LineDialects } from "../shared/openai-compatible/encode.js";
import type { ResponsesDialect } from "../shared/openai-compatible/responses.js";
import { strictOrRefuse } from "../shared/openai-compatible/strict-schema.js";

/**
 * Azure OpenAI takes OpenAI's request bodies. Prompt caching is automatic there (`cacheSystemPrompt` sends
 * nothing). Which deployments take images is the deployment's model's affair ("currently only GPT-4o" in the
 * global batch FAQ): Relay cannot tell from a deployment name, so it does not refuse them.
 */
const AZURE_CHAT: ChatDialect = {
  provider: "Azure OpenAI",
  maxTokensField: "max_completion_tokens",
  maxStopSequences: 4,
  strictFor: strictOrRefuse("Azure OpenAI"),
  reasoningEffort: (effort) => ({ reasoning_effort: effort }),
};

const AZURE_RESPONSES: ResponsesDialect = {
  provider: "Azure OpenAI",
  imageDetail: true,
  toolStrict: true,
  strictFor: strictOrRefuse("Azure OpenAI"),
};

export const AZURE_LINES: LineDialects = { chat: AZURE_CHAT, responses: AZURE_RESPONSES };
