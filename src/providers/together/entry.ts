import type { ProviderEntry } from "../registry.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { normaliseTogetherStatus } from "./status.js";

export const togetherEntry: ProviderEntry = {
  name: "together",
  apiKeyEnv: "TOGETHER_API_KEY",
  baseURLEnv: "TOGETHER_BASE_URL",
  // Loaded on first use, so that an SDK costs memory only for the providers a process uses.
  create: async (config) => new (await import("./adapter.js")).TogetherAdapter(config),
  normaliseStatus: normaliseTogetherStatus,
  parseRecord: parseOpenAIShapedLine,
};
