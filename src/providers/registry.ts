import { MissingApiKeyError, UnknownProviderError } from "../errors.js";
import type { ProviderName } from "../types.js";
import type { ProviderEntry } from "./entry.js";
import { PROVIDER_ENTRIES } from "./index.js";
import type { ProviderConfig, ResolvedProviderConfig } from "./types.js";

export type { ProviderEntry } from "./entry.js";

const REGISTRY = new Map<string, ProviderEntry<ProviderName>>(
  PROVIDER_ENTRIES.map((entry) => [entry.name, entry]),
);

/** Every provider's name, in registration order. */
export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDER_ENTRIES.map((entry) => entry.name);

export function supportedProviders(): ProviderName[] {
  return [...PROVIDER_NAMES];
}

export function isProviderName(name: unknown): name is ProviderName {
  return typeof name === "string" && REGISTRY.has(name);
}

export function providerEntry(name: unknown): ProviderEntry<ProviderName> {
  const entry = typeof name === "string" ? REGISTRY.get(name) : undefined;
  if (!entry) {
    throw new UnknownProviderError(
      `Unknown provider ${JSON.stringify(name)}. Supported providers: ${PROVIDER_NAMES.join(", ")}.`,
    );
  }
  return entry;
}

/** Every provider entry, in registration order. */
export function providerEntries(): readonly ProviderEntry<ProviderName>[] {
  return PROVIDER_ENTRIES;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_MAX_RETRIES = 4;

/** Explicit configuration first, then the provider's usual environment variables (in its SDK's precedence). */
export function resolveProviderConfig(
  entry: ProviderEntry,
  config: ProviderConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedProviderConfig {
  const keyVariables = [...(entry.apiKeyEnvAliases ?? []), entry.apiKeyEnv];
  const apiKey = config?.apiKey ?? keyVariables.map((name) => env[name]).find((value) => value);
  if (!apiKey) throw new MissingApiKeyError(entry.name, entry.apiKeyEnv);
  return {
    ...config,
    apiKey,
    baseURL:
      config?.baseURL ??
      [entry.baseURLEnv, ...(entry.baseURLEnvAliases ?? [])].map((name) => env[name]).find((value) => value),
    endpoint: config?.endpoint,
    timeoutMs: config?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: config?.maxRetries ?? DEFAULT_MAX_RETRIES,
    env,
  };
}
