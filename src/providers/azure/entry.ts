import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { PRINTABLE_CUSTOM_ID } from "../shared/custom-id.js";
import { normaliseOpenAIStatus } from "../shared/openai-compatible/status.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";

export const azureEntry = defineProvider({
  name: "azure",
  displayName: "Azure OpenAI",
  apiKeyEnv: "AZURE_OPENAI_API_KEY",
  // The resource endpoint, as AzureOpenAI's `endpoint`; the api-version comes from OPENAI_API_VERSION.
  baseURLEnv: "AZURE_OPENAI_ENDPOINT",
  defaultBaseURL: "https://<resource>.openai.azure.com",
  emulatorBasePath: "/azure",
  // A Global-Batch deployment name: Azure takes deployment names as `model`.
  demoModel: "gpt-4o-mini",
  priceKey: "azure",
  // Prices are looked up by `model`, which Azure makes a deployment name: one named after its model is priced,
  // others are reported as unknown.
  batchDiscount: {
    multiplier: 0.5,
    source: "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch",
    note: "50% less than global standard",
  },
  // As OpenAI, without embeddings: the global batch FAQ says embeddings models are not supported.
  features: featuresExcept("embeddings"),
  limits: {
    // Global batch: 100,000 requests and 200 MB per file (global-batch-limits.md; error too_many_tasks).
    maxRequestsPerBatch: 100_000,
    // "200 MB", read as decimal megabytes, the smaller of the two readings.
    maxBytesPerBatch: 200_000_000,
    // No documented per-line cap; a line cannot exceed the file cap. Kept well below it.
    maxBytesPerRequest: 50_000_000,
    // Azure documents no custom_id rule (UNVERIFIED).
    ...PRINTABLE_CUSTOM_ID,
    // The same Global-Batch deployment name must be on every line (model_mismatch otherwise).
    oneModelPerBatch: true,
  },
  create: async (config) => (await import("./adapter.js")).createAzureAdapter(config),
  normaliseStatus: normaliseOpenAIStatus,
  parseRecord: parseOpenAIShapedLine,
});
