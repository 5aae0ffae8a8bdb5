import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { parseMistralRecord } from "./decode.js";
import { normaliseMistralStatus } from "./status.js";

export const mistralEntry = defineProvider({
  name: "mistral",
  displayName: "Mistral AI",
  // The official SDK reads MISTRAL_API_KEY itself; it has no base-URL variable, so MISTRAL_BASE_URL is Relay's,
  // in the SDK's `serverURL` convention (the host root; the API's paths start with /v1).
  apiKeyEnv: "MISTRAL_API_KEY",
  baseURLEnv: "MISTRAL_BASE_URL",
  defaultBaseURL: "https://api.mistral.ai",
  emulatorBasePath: "/mistral",
  demoModel: "mistral-small-latest",
  priceKey: "mistral",
  batchDiscount: {
    multiplier: 0.5,
    source: "https://docs.mistral.ai/deployment/laplateforme/pricing",
    note: "50% as price guides report it; Mistral's batch guide itself states no figure",
  },
  // Chat completions and embeddings jobs (`/v1/embeddings`).
  features: featuresExcept(),
  limits: {
    // "A maximum limit of 1 million pending requests per workspace": no single batch can be larger. Other jobs'
    // pending requests count against the same limit; Relay cannot see those of other tools.
    maxRequestsPerBatch: 1_000_000,
    // Files "can be a maximum of 512 MB"; read as decimal megabytes, the smaller of the two readings.
    maxBytesPerBatch: 512_000_000,
    // No documented per-request cap; a line cannot exceed the file cap. Kept well below it.
    maxBytesPerRequest: 50_000_000,
    // Mistral documents no rule for custom_id (the spec types it as any string). Relay keeps to what every
    // batch provider accepts, which also keeps its one-id-per-line files unambiguous.
    customIdPattern: /^[^\s\p{Cc}]{1,64}$/u,
    customIdRule: "1 to 64 characters, no spaces or control characters",
    // "You can only use one model per batch": the job names it once.
    oneModelPerBatch: true,
  },
  create: async (config) => new (await import("./adapter.js")).MistralAdapter(config),
  normaliseStatus: normaliseMistralStatus,
  parseRecord: parseMistralRecord,
});
