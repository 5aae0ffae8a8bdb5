import type { ProviderEntry } from "../registry.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { TogetherAdapter } from "./adapter.js";
import { normaliseTogetherStatus } from "./status.js";

export const togetherEntry: ProviderEntry = {
  name: "together",
  apiKeyEnv: "TOGETHER_API_KEY",
  baseURLEnv: "TOGETHER_BASE_URL",
  create: (config) => new TogetherAdapter(config),
  normaliseStatus: normaliseTogetherStatus,
  parseRecord: parseOpenAIShapedLine,
};
