import type { ProviderEntry } from "../registry.js";
import { AnthropicAdapter } from "./adapter.js";
import { parseAnthropicRecord } from "./parse.js";
import { normaliseAnthropicStatus } from "./status.js";

export const anthropicEntry: ProviderEntry = {
  name: "anthropic",
  apiKeyEnv: "ANTHROPIC_API_KEY",
  baseURLEnv: "ANTHROPIC_BASE_URL",
  create: (config) => new AnthropicAdapter(config),
  normaliseStatus: normaliseAnthropicStatus,
  parseRecord: parseAnthropicRecord,
};
