import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { parseXaiRecord } from "./decode.js";
import { ADD_BODY_OVERHEAD_BYTES, MAX_ADD_CALL_BYTES } from "./limits.js";
import { normaliseXaiStatus } from "./status.js";

export const xaiEntry = defineProvider({
  name: "xai",
  displayName: "xAI",
  apiKeyEnv: "XAI_API_KEY",
  baseURLEnv: "XAI_BASE_URL",
  defaultBaseURL: "https://api.x.ai/v1",
  emulatorBasePath: "/xai/v1",
  demoModel: "grok-4.3",
  priceKey: "x-ai",
  batchDiscount: {
    multiplier: 0.5,
    source: "https://docs.x.ai/docs/guides/batch-api",
    note: 'the guide has said "50% off"; its later text says "reduced pricing" and points to the pricing page',
  },
  // The official SDK's batch request types take no embeddings.
  features: featuresExcept("embeddings"),
  limits: {
    // xAI documents no hard cap, only that batches of more than 100,000 requests may be throttled.
    maxRequestsPerBatch: 100_000,
    // No cap is documented for a batch filled by add calls; Relay's own bound keeps a shard to about ten calls.
    maxBytesPerBatch: 250_000_000,
    // One request must fit in one add call (25 MB payload, read as decimal megabytes, the smaller reading).
    maxBytesPerRequest: MAX_ADD_CALL_BYTES - ADD_BODY_OVERHEAD_BYTES,
    // xAI only says batch_request_id must be unique within the batch. Relay refuses whitespace and control
    // characters (its one-id-per-line files need that) and keeps to 64 characters, as for the other providers.
    customIdPattern: /^[^\s\p{Cc}]{1,64}$/u,
    customIdRule: "1 to 64 characters, no spaces or control characters",
    // Each request names its own model (request metadata lists a model per request; a batch has none).
    oneModelPerBatch: false,
  },
  create: async (config) => new (await import("./adapter.js")).XaiAdapter(config),
  normaliseStatus: normaliseXaiStatus,
  parseRecord: parseXaiRecord,
});
