import { readdir } from "node:fs/promises";
import { type Harness, startHarness } from "./harness.js";

/** The JSON lines of a command's stdout, parsed. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/** Every request line the OpenAI emulation received for a job's batches, parsed, by custom_id. */
export async function openaiLinesSent(
  harness: Harness,
  jobId: string,
): Promise<Map<string, Record<string, unknown>>> {
  const record = await harness.client().getJob(jobId);
  const lines = new Map<string, Record<string, unknown>>();
  for (const shard of record?.shards ?? []) {
    const file = harness.emulator.providers.openai.files.get(shard.input_file_id ?? "");
    for (const line of file?.data?.toString("utf8").split("\n") ?? []) {
      if (!line) continue;
      const parsed = JSON.parse(line) as { custom_id: string };
      lines.set(parsed.custom_id, parsed);
    }
  }
  return lines;
}

/** Every file and directory under the workspace (relative paths, sorted): to prove that nothing changed. */
export async function workspaceListing(directory: string): Promise<string[]> {
  return (await readdir(directory, { recursive: true })).map(String).sort();
}

/** Requests that reached the provider and could have changed something there. */
export function writesSeen(harness: Harness): string[] {
  return harness.emulator.requestLog
    .filter((entry) => entry.method !== "GET")
    .map((entry) => `${entry.method} ${entry.path}`);
}

/**
 * Runs a test on its own emulator and workspace, so that tests that spend their time waiting on `relay` processes
 * can run concurrently (it.concurrent).
 */
export async function withHarness(
  test: (harness: Harness) => Promise<void>,
  options: Parameters<typeof startHarness>[0] = {},
): Promise<void> {
  const harness = await startHarness(options);
  try {
    await test(harness);
  } finally {
    await harness.close();
  }
}
