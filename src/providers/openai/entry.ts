import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { PRINTABLE_CUSTOM_ID } from "../shared/custom-id.js";
import { normaliseOpenAIStatus } from "../shared/openai-compatible/status.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";

export const openaiEntry = defineProvider({
  name: "openai",
  displayName: "OpenAI",
  apiKeyEnv: "OPENAI_API_KEY",
  baseURLEnv: "OPENAI_BASE_URL",
  defaultBaseURL: "https://api.openai.com/v1",
  emulatorBasePath: "/openai/v1",
  demoModel: "gpt-4o-mini",
  priceKey: "openai",
  batchDiscount: { multiplier: 0.5, source: "https://platform.openai.com/docs/guides/batch" },
  // Every request kind, on chat completions; the Responses API refuses seed and stopSequences (see encode.ts).
  features: featuresExcept(),
  limits: {
    maxRequestsPerBatch: 50_000,
    maxBytesPerBatch: 200 * 1024 * 1024,
    // No documented per-line cap; a line cannot exceed the file cap. Kept well below it.
    maxBytesPerRequest: 50 * 1024 * 1024,
    ...PRINTABLE_CUSTOM_ID,
    oneModelPerBatch: true,
  },
  create: async (config) => (await import("./adapter.js")).createOpenAIAdapter(config),
  normaliseStatus: normaliseOpenAIStatus,
  parseRecord: parseOpenAIShapedLine,
});
