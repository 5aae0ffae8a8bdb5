import { OpenAICompatibleAdapter } from "../shared/openai-compatible/adapter.js";
import { CHAT_COMPLETIONS, RESPONSES } from "../shared/openai-compatible/encode.js";
import { RestClient } from "../shared/rest-client.js";
import type { ResolvedProviderConfig } from "../types.js";
import { openaiEntry } from "./entry.js";

/** OpenAI's Files and Batches APIs: the protocol's reference dialect (bearer key, cursor-paged list, "24h"). */
export function createOpenAIAdapter(config: ResolvedProviderConfig): OpenAICompatibleAdapter {
  return new OpenAICompatibleAdapter({
    name: openaiEntry.name,
    displayName: openaiEntry.displayName,
    limits: openaiEntry.limits,
    rest: new RestClient({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? openaiEntry.defaultBaseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
    }),
    endpoints: [CHAT_COMPLETIONS, RESPONSES],
    configuredEndpoint: config.endpoint,
    completionWindow: "24h",
    listing: "cursor",
  });
}
