import type { ProviderEntry } from "../registry.js";
import { parseAnthropicRecord } from "./parse.js";
import { normaliseAnthropicStatus } from "./status.js";

export const anthropicEntry: ProviderEntry = {
  name: "anthropic",
  apiKeyEnv: "ANTHROPIC_API_KEY",
  baseURLEnv: "ANTHROPIC_BASE_URL",
  // Loaded on first use, so that an SDK costs memory only for the providers a process uses.
  create: async (config) => new (await import("./adapter.js")).AnthropicAdapter(config),
  normaliseStatus: normaliseAnthropicStatus,
  parseRecord: parseAnthropicRecord,
};
