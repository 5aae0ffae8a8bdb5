import { providerEntries } from "../providers/registry.js";
import type { ProviderConfig } from "../providers/types.js";
import type { ProviderName } from "../types.js";

const REDACTED = "[redacted]";

/** Every API key the dashboard's client could use: those given, and those in the provider's environment variables. */
export function knownSecrets(
  providers: Partial<Record<ProviderName, ProviderConfig>> | undefined,
  env: NodeJS.ProcessEnv,
): string[] {
  const secrets = new Set<string>();
  for (const entry of providerEntries()) {
    const given = providers?.[entry.name]?.apiKey;
    if (given) secrets.add(given);
    for (const name of [...(entry.apiKeyEnvAliases ?? []), entry.apiKeyEnv]) {
      const value = env[name];
      if (value) secrets.add(value);
    }
  }
  // Too short to be a key, and replacing it would mangle ordinary text.
  return [...secrets].filter((secret) => secret.length >= 8);
}

/** The text with every known secret replaced; a last line of defence, as nothing Relay returns should hold one. */
export function redact(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) if (clean.includes(secret)) clean = clean.replaceAll(secret, REDACTED);
  return clean;
}
