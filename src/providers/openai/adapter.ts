import { OpenAICompatibleAdapter } from "../shared/openai-compatible/adapter.js";
import { CHAT_COMPLETIONS, RESPONSES } from "../shared/openai-compatible/encode.js";
import type { ResolvedProviderConfig } from "../types.js";
import { encodeOpenAIEmbedding, OPENAI_LINES } from "./encode.js";
import { openaiEntry } from "./entry.js";

/**
 * OpenAI's Files and Batches APIs: the protocol's reference dialect (bearer key, cursor-paged list, "24h"), with
 * chat-completions, Responses-API and embeddings batches.
 */
export function createOpenAIAdapter(config: ResolvedProviderConfig): OpenAICompatibleAdapter {
  return new OpenAICompatibleAdapter(openaiEntry, config, {
    apiBaseURL: config.baseURL ?? openaiEntry.defaultBaseURL,
    endpoints: [CHAT_COMPLETIONS, RESPONSES],
    completionWindow: "24h",
    listing: "cursor",
    lines: OPENAI_LINES,
    encodeEmbedding: encodeOpenAIEmbedding,
  });
}
