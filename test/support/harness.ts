import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Emulator, type EmulatorOptions, ManualClock } from "../../src/emulator/index.js";
import { RelayClient, type RelayClientOptions } from "../../src/index.js";
import { providerEntries, providerEntry } from "../../src/providers/registry.js";
import type { ProviderConfig } from "../../src/providers/types.js";
import type { BatchRequest, ProviderName } from "../../src/types.js";

/** A distinct, recognisable test key per provider (the secrets test looks for them everywhere). */
export const TEST_KEYS = Object.fromEntries(
  providerEntries().map((entry, index) => [
    entry.name,
    `test-key-${entry.name}-${(0x3f9a1c7e + index * 7919).toString(16)}`,
  ]),
) as Record<ProviderName, string>;

export interface Harness {
  emulator: Emulator;
  clock: ManualClock;
  directory: string;
  client(options?: Partial<RelayClientOptions>): RelayClient;
  /** The environment a `relay` process needs to reach this provider's emulation, and the workspace. */
  env(provider: ProviderName): Record<string, string>;
  close(): Promise<void>;
}

/** An emulator on a manual clock and a fresh workspace; clients point at the emulator with test keys. */
export async function startHarness(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const emulator = await Emulator.start({ clock, ...options });
  const directory = await mkdtemp(join(tmpdir(), "relay-test-"));
  return {
    emulator,
    clock,
    directory,
    client: (overrides = {}) =>
      new RelayClient({
        directory,
        env: {},
        providers: Object.fromEntries(
          providerEntries().map((entry): [ProviderName, ProviderConfig] => [
            entry.name,
            { apiKey: TEST_KEYS[entry.name], baseURL: emulator.baseURL(entry.name), maxRetries: 3 },
          ]),
        ),
        lock: { waitMs: 5_000 },
        ...overrides,
      }),
    env(provider) {
      const entry = providerEntry(provider);
      return {
        [entry.apiKeyEnv]: TEST_KEYS[provider],
        [entry.baseURLEnv]: emulator.baseURL(provider),
        RELAY_DIRECTORY: directory,
      };
    },
    async close() {
      await emulator.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Moves the manual clock far enough for any default-timed batch to finish. */
export const ENOUGH_TIME_MS = 60_000;

export function exampleRequests(count: number, model = "gpt-4o-mini"): BatchRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `req-${index + 1}`,
    model,
    systemPrompt: "You are a helpful assistant.",
    prompt: `Question number ${index + 1}: what is ${index} + ${index}?`,
  }));
}
