import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { PRINTABLE_CUSTOM_ID } from "../shared/custom-id.js";
import { normaliseOpenAIStatus } from "../shared/openai-compatible/status.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";

export const groqEntry = defineProvider({
  name: "groq",
  displayName: "Groq",
  apiKeyEnv: "GROQ_API_KEY",
  baseURLEnv: "GROQ_BASE_URL",
  // groq-sdk's convention: the host root; every path carries /openai/v1.
  defaultBaseURL: "https://api.groq.com",
  emulatorBasePath: "/groq",
  demoModel: "llama-3.1-8b-instant",
  priceKey: "groq",
  batchDiscount: {
    multiplier: 0.75,
    source: "https://console.groq.com/docs/batch",
    note: "25% off synchronous prices, as the batch guide states",
  },
  // Groq batches chat completions only (no embeddings); model limits are checked in encode.ts.
  features: featuresExcept("embeddings"),
  limits: {
    // Groq documents no request cap per batch; OpenAI's 50,000 is assumed (UNVERIFIED).
    maxRequestsPerBatch: 50_000,
    // "up to 100 MB" (groq-sdk's FileCreateParams); read as decimal megabytes, the smaller of the two readings.
    maxBytesPerBatch: 100_000_000,
    // No documented per-line cap; a line cannot exceed the file cap. Kept well below it.
    maxBytesPerRequest: 50_000_000,
    // Groq documents no custom_id rule (UNVERIFIED).
    ...PRINTABLE_CUSTOM_ID,
    // Lines name their model; one model per file is the OpenAI rule the protocol follows (UNVERIFIED at Groq).
    oneModelPerBatch: true,
  },
  create: async (config) => (await import("./adapter.js")).createGroqAdapter(config),
  normaliseStatus: normaliseOpenAIStatus,
  parseRecord: parseOpenAIShapedLine,
});
