import { MissingApiKeyError, UnknownProviderError } from "../errors.js";
import type { JobStatus, ProviderName } from "../types.js";
import { anthropicEntry } from "./anthropic/entry.js";
import { openaiEntry } from "./openai/entry.js";
import { togetherEntry } from "./together/entry.js";
import type { ParsedResult, ProviderAdapter, ProviderConfig, ResolvedProviderConfig } from "./types.js";

/** How Relay finds a provider: its environment variables and how to build its adapter. */
export interface ProviderEntry {
  name: ProviderName;
  apiKeyEnv: string;
  baseURLEnv: string;
  create(config: ResolvedProviderConfig): Promise<ProviderAdapter>;
  /** Needs no key: used to read stored records. */
  normaliseStatus(providerStatus: string): JobStatus;
  parseRecord(raw: unknown): ParsedResult | null;
}

const ENTRIES: ProviderEntry[] = [openaiEntry, anthropicEntry, togetherEntry].filter(
  (entry): entry is ProviderEntry => entry !== null,
);

const REGISTRY = new Map<string, ProviderEntry>(ENTRIES.map((entry) => [entry.name, entry]));

export function supportedProviders(): ProviderName[] {
  return [...REGISTRY.keys()] as ProviderName[];
}

export function providerEntry(name: unknown): ProviderEntry {
  const entry = typeof name === "string" ? REGISTRY.get(name) : undefined;
  if (!entry) {
    throw new UnknownProviderError(
      `Unknown provider ${JSON.stringify(name)}. Supported providers: ${supportedProviders().join(", ")}.`,
    );
  }
  return entry;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_MAX_RETRIES = 4;

/** Explicit configuration first, then the provider's usual environment variables. */
export function resolveProviderConfig(
  entry: ProviderEntry,
  config: ProviderConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedProviderConfig {
  const apiKey = config?.apiKey ?? env[entry.apiKeyEnv];
  if (!apiKey) throw new MissingApiKeyError(entry.name, entry.apiKeyEnv);
  return {
    apiKey,
    baseURL: config?.baseURL ?? (env[entry.baseURLEnv] || undefined),
    endpoint: config?.endpoint,
    timeoutMs: config?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: config?.maxRetries ?? DEFAULT_MAX_RETRIES,
  };
}
