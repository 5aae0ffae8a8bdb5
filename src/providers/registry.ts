import { MissingApiKeyError, UnknownProviderError } from "../errors.js";
import type { ProviderName } from "../types.js";
import { rememberSecret } from "../util/secrets.js";
import type { ProviderEntry } from "./entry.js";
import { PROVIDER_ENTRIES } from "./index.js";
import { checkBaseURL } from "./shared/base-url.js";
import type { RetryListener } from "./shared/retry-notice.js";
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
  shared: { onRetry?: RetryListener } = {},
): ResolvedProviderConfig {
  const keyVariables = [...(entry.apiKeyEnvAliases ?? []), entry.apiKeyEnv];
  const apiKey = config?.apiKey ?? keyVariables.map((name) => env[name]).find((value) => value);
  if (!apiKey) throw new MissingApiKeyError(entry.name, entry.apiKeyEnv);
  rememberSecret(apiKey);
  const fromEnv = [entry.baseURLEnv, ...(entry.baseURLEnvAliases ?? [])].find((name) => env[name]);
  const baseURL =
    config?.baseURL !== undefined
      ? checkBaseURL(`providers.${entry.name}.baseURL`, config.baseURL)
      : fromEnv === undefined
        ? undefined
        : checkBaseURL(fromEnv, env[fromEnv] as string);
  return {
    ...config,
    apiKey,
    baseURL,
    endpoint: config?.endpoint,
    timeoutMs: config?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: config?.maxRetries ?? DEFAULT_MAX_RETRIES,
    env,
    ...(shared.onRetry ? { onRetry: shared.onRetry } : {}),
  };
}

/**
 * Remembers every API key the configuration and the environment hold for any provider, so that none of them is
 * ever stored, printed or thrown (see util/secrets.ts), even before its provider is used.
 */
export function rememberConfiguredKeys(
  configs: Partial<Record<string, ProviderConfig>>,
  env: NodeJS.ProcessEnv,
): void {
  for (const entry of PROVIDER_ENTRIES) {
    rememberSecret(configs[entry.name]?.apiKey);
    for (const name of [...(entry.apiKeyEnvAliases ?? []), entry.apiKeyEnv]) rememberSecret(env[name]);
  }
}
