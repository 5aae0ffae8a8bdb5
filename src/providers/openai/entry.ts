import type { ProviderEntry } from "../registry.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { normaliseOpenAIStatus } from "./status.js";

export const openaiEntry: ProviderEntry = {
  name: "openai",
  apiKeyEnv: "OPENAI_API_KEY",
  baseURLEnv: "OPENAI_BASE_URL",
  // Loaded on first use, so that an SDK costs memory only for the providers a process uses.
  create: async (config) => new (await import("./adapter.js")).OpenAIAdapter(config),
  normaliseStatus: normaliseOpenAIStatus,
  parseRecord: parseOpenAIShapedLine,
};
