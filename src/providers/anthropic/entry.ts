import { featuresExcept } from "../../requests/features.js";
import { defineProvider } from "../entry.js";
import { parseAnthropicRecord } from "./parse.js";
import { normaliseAnthropicStatus } from "./status.js";

export const anthropicEntry = defineProvider({
  name: "anthropic",
  displayName: "Anthropic",
  apiKeyEnv: "ANTHROPIC_API_KEY",
  baseURLEnv: "ANTHROPIC_BASE_URL",
  defaultBaseURL: "https://api.anthropic.com",
  emulatorBasePath: "/anthropic",
  demoModel: "claude-sonnet-4-5",
  priceKey: "anthropic",
  batchDiscount: {
    multiplier: 0.5,
    source: "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing",
  },
  // No seed (the Messages API has none) and no embeddings (Anthropic has no embeddings API).
  features: featuresExcept("seed", "embeddings"),
  limits: {
    maxRequestsPerBatch: 100_000,
    // 256 MB per batch, unit unstated (10^6 or 2^20): stay below the smaller, which also leaves room for the
    // {"requests":[…]} wrapper and the commas between requests.
    maxBytesPerBatch: 250_000_000,
    // The Messages API's own request size cap; a batch documents none per request.
    maxBytesPerRequest: 32 * 1024 * 1024,
    customIdPattern: /^[a-zA-Z0-9_-]{1,64}$/,
    customIdRule: "1 to 64 characters, each a letter (a-z, A-Z), a digit, an underscore (_) or a hyphen (-)",
    oneModelPerBatch: false,
  },
  create: async (config) => new (await import("./adapter.js")).AnthropicAdapter(config),
  normaliseStatus: normaliseAnthropicStatus,
  parseRecord: parseAnthropicRecord,
});
