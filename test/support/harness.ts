import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Emulator, type EmulatorOptions, ManualClock } from "../../src/emulator/index.js";
import { RelayClient, type RelayClientOptions } from "../../src/index.js";
import type { BatchRequest, ProviderName } from "../../src/types.js";

export const TEST_KEYS: Record<ProviderName, string> = {
  openai: "sk-test-openai-3f9a1c7e5b",
  anthropic: "sk-ant-test-8d2e6f0a4c",
  together: "tg-test-key-1b7d9e3f5a",
};

export interface Harness {
  emulator: Emulator;
  clock: ManualClock;
  directory: string;
  client(options?: Partial<RelayClientOptions>): RelayClient;
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
        providers: {
          openai: { apiKey: TEST_KEYS.openai, baseURL: emulator.baseURL("openai"), maxRetries: 3 },
          anthropic: { apiKey: TEST_KEYS.anthropic, baseURL: emulator.baseURL("anthropic"), maxRetries: 3 },
          together: { apiKey: TEST_KEYS.together, baseURL: emulator.baseURL("together"), maxRetries: 3 },
        },
        lock: { waitMs: 5_000 },
        ...overrides,
      }),
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
