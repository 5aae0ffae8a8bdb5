import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { normaliseTogetherStatus } from "./status.js";

export const togetherEntry = defineProvider({
  name: "together",
  displayName: "Together AI",
  apiKeyEnv: "TOGETHER_API_KEY",
  baseURLEnv: "TOGETHER_BASE_URL",
  defaultBaseURL: "https://api.together.ai/v1",
  emulatorBasePath: "/together/v1",
  demoModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
  priceKey: "together",
  batchDiscount: {
    multiplier: 0.5,
    source: "https://docs.together.ai/docs/inference/batch/overview",
    note: "up to 50% off serverless rates, on selected models",
  },
  // No embeddings batches and no prompt-cache control are documented for Together's batch API.
  features: featuresExcept("cacheSystemPrompt", "embeddings"),
  limits: {
    maxRequestsPerBatch: 50_000,
    // "100 MB" per file; read as decimal megabytes, the smaller of the two readings.
    maxBytesPerBatch: 100_000_000,
    // No documented per-line cap; a line cannot exceed the file cap. Kept well below it.
    maxBytesPerRequest: 50_000_000,
    // Together's batch guide says "max 64 chars". Which characters are allowed is UNVERIFIED: Relay refuses
    // whitespace and control characters, which also keeps its one-id-per-line files unambiguous.
    customIdPattern: /^[^\s\p{Cc}]{1,64}$/u,
    customIdRule: "1 to 64 characters, no spaces or control characters",
    // A BatchJob has a single `model_id` and creation takes at most one; mixing models in one file is not
    // documented to work, so Relay never tries.
    oneModelPerBatch: true,
  },
  create: async (config) => new (await import("./adapter.js")).TogetherAdapter(config),
  normaliseStatus: normaliseTogetherStatus,
  parseRecord: parseOpenAIShapedLine,
});
