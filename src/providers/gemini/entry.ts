import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { PRINTABLE_CUSTOM_ID } from "../shared/custom-id.js";
import { parseGeminiRecord } from "./decode.js";
import { normaliseGeminiState } from "./status.js";

export const geminiEntry = defineProvider({
  name: "gemini",
  displayName: "Google Gemini",
  apiKeyEnv: "GEMINI_API_KEY",
  // @google/genai reads GOOGLE_API_KEY first and GEMINI_API_KEY second (warning when both are set).
  apiKeyEnvAliases: ["GOOGLE_API_KEY"],
  baseURLEnv: "GEMINI_BASE_URL",
  // The variable @google/genai itself reads for the base URL.
  baseURLEnvAliases: ["GOOGLE_GEMINI_BASE_URL"],
  // The host root, as @google/genai's httpOptions.baseUrl; paths carry the API version (/v1beta/…).
  defaultBaseURL: "https://generativelanguage.googleapis.com",
  emulatorBasePath: "/gemini",
  demoModel: "gemini-2.5-flash",
  priceKey: "google",
  batchDiscount: {
    multiplier: 0.5,
    source: "https://ai.google.dev/gemini-api/docs/batch-api",
    note: "context-cache hits inside a batch are billed at the standard caching rates",
  },
  // Images go as inline data only (fileData takes Files API uploads, not web URLs). cacheSystemPrompt is a no-op:
  // Gemini 2.5 and later cache repeated prompt prefixes implicitly.
  features: featuresExcept("imageUrls"),
  limits: {
    // Gemini documents no cap on requests per batch. A batch that expires loses every result (see batchExpiry),
    // so Relay keeps batches to a size that finishes well within the window.
    maxRequestsPerBatch: 50_000,
    // "2GB" per input file, read as the smaller (decimal) figure.
    maxBytesPerBatch: 2_000_000_000,
    // No per-request cap is documented for batches; the interactive API refuses requests over 20 MB.
    maxBytesPerRequest: 20_000_000,
    // The key is a free string (a Struct value inline, a JSON string in files); Gemini documents no rule.
    ...PRINTABLE_CUSTOM_ID,
    // The model is part of the batch's URL (models/{model}:batchGenerateContent).
    oneModelPerBatch: true,
  },
  // "JOB_STATE_EXPIRED: … running or pending for more than 48 hours. The job will not have any results."
  batchExpiry: { afterMs: 48 * 60 * 60_000, keepsFinishedResults: false },
  create: async (config) => new (await import("./adapter.js")).GeminiAdapter(config),
  normaliseStatus: normaliseGeminiState,
  parseRecord: parseGeminiRecord,
});
