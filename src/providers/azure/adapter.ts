import { OpenAICompatibleAdapter } from "../shared/openai-compatible/adapter.js";
import { CHAT_COMPLETIONS, RESPONSES } from "../shared/openai-compatible/encode.js";
import type { ResolvedProviderConfig } from "../types.js";
import { azureApi } from "./api.js";
import { AZURE_LINES } from "./encode.js";
import { azureEntry } from "./entry.js";

/**
 * How long the files Relay uploads, and the batches' output files, are kept: the longest Azure allows (30 days).
 * Files with an expiry count against a quota of 10,000 per resource instead of 500.
 */
export const FILE_EXPIRY_SECONDS = 30 * 24 * 60 * 60;

/**
 * Azure OpenAI global batch: OpenAI's protocol with an `api-key` header, the v1 API or the versioned one (with
 * `api-version` on every request), deployment names as models, and only the "24h" completion window. Batches go
 * to `/openai[/v1]/batches`, never under `/deployments/{name}`.
 */
export function createAzureAdapter(config: ResolvedProviderConfig): OpenAICompatibleAdapter {
  const api = azureApi(config.baseURL, config.apiVersion ?? (config.env.OPENAI_API_VERSION || undefined));
  const expiry = { seconds: FILE_EXPIRY_SECONDS, anchor: "created_at" };
  return new OpenAICompatibleAdapter(azureEntry, config, {
    apiBaseURL: api.baseURL,
    query: api.query,
    authHeaders: { "api-key": config.apiKey },
    endpoints: [CHAT_COMPLETIONS, RESPONSES],
    completionWindow: "24h",
    listing: "cursor",
    lines: AZURE_LINES,
    ...(api.fileExpiry
      ? {
          uploadFields: {
            "expires_after.seconds": String(expiry.seconds),
            "expires_after.anchor": expiry.anchor,
          },
          createFields: { output_expires_after: expiry },
        }
      : {}),
  });
}
