import type { ProviderEntry } from "../registry.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { OpenAIAdapter } from "./adapter.js";
import { normaliseOpenAIStatus } from "./status.js";

export const openaiEntry: ProviderEntry = {
  name: "openai",
  apiKeyEnv: "OPENAI_API_KEY",
  baseURLEnv: "OPENAI_BASE_URL",
  create: (config) => new OpenAIAdapter(config),
  normaliseStatus: normaliseOpenAIStatus,
  parseRecord: parseOpenAIShapedLine,
};
