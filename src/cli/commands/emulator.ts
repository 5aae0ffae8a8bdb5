import { Option } from "commander";
import type { Emulator } from "../../emulator/index.js";
import { RelayError } from "../../errors.js";
import { providerEntries } from "../../providers/registry.js";
import type { ProviderName } from "../../types.js";
import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { numberIn } from "../options.js";

const milliseconds = () => numberIn({ min: 0, max: 86_400_000, integer: true, unit: "milliseconds" });

async function start(options: Record<string, unknown>): Promise<Emulator> {
  const { Emulator } = await import("../../emulator/index.js");
  const timing: Record<string, number> = {};
  if (options.validatingMs !== undefined) timing.validatingMs = options.validatingMs as number;
  if (options.inProgressMs !== undefined) timing.inProgressMs = options.inProgressMs as number;
  if (options.finalizingMs !== undefined) timing.finalizingMs = options.finalizingMs as number;
  const key = options.apiKey as string | undefined;
  const apiKeys = key
    ? (Object.fromEntries(providerEntries().map((entry) => [entry.name, key])) as Record<
        ProviderName,
        string
      >)
    : undefined;
  const port = options.port as number;
  try {
    return await Emulator.start({ port, timing, ...(apiKeys ? { apiKeys } : {}) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new RelayError(
        "port_in_use",
        `Port ${port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one).`,
      );
    }
    if (code === "EACCES") {
      throw new RelayError(
        "port_not_allowed",
        `Port ${port} needs privileges this process lacks; choose one above 1023.`,
      );
    }
    throw error;
  }
}

export const emulatorCommand: CommandDefinition = {
  name: "emulator",
  summary: "Serve the providers' batch APIs on 127.0.0.1, for trying Relay (or an SDK) without keys",
  description:
    "A local server that speaks each provider's batch API (files, batches, results) as the official SDKs expect. " +
    "Batches move through validating, in_progress and finalizing to completed on the clock given by the --*-ms " +
    "options, with deterministic fake answers and usage. A prompt containing [emulator:fail], [emulator:error], " +
    "[emulator:expire] or [emulator:invalid] fails, errors, expires or fails validation. With --api-key every " +
    "provider answers a wrong or missing key with its own 401; without it, any key is accepted. Stop with Ctrl-C.",
  options: [
    new Option("--port <port>", "the port on 127.0.0.1 (0: any free port)")
      .argParser(numberIn({ min: 0, max: 65_535, integer: true }))
      .default(8787),
    new Option("--api-key <key>", "the API key every provider's emulation expects (default: any key)"),
    new Option("--validating-ms <ms>", "how long a batch validates").argParser(milliseconds()),
    new Option("--in-progress-ms <ms>", "how long a batch runs").argParser(milliseconds()),
    new Option("--finalizing-ms <ms>", "how long a batch finalizes").argParser(milliseconds()),
  ],
  examples: [
    "relay emulator",
    "relay emulator --port 9000 --api-key local-test-key",
    "relay emulator --in-progress-ms 60000 # batches run for a minute",
  ],
  async run(context, _args, options) {
    const { terminal } = context;
    const emulator = await start(options);
    const key = options.apiKey as string | undefined;
    await terminal.line(`Relay emulator listening on ${emulator.url}`);
    for (const entry of providerEntries())
      await terminal.line(`  ${entry.name.padEnd(10)} ${emulator.baseURL(entry.name)}`);
    await terminal.line(
      key
        ? `It expects the API key: ${key}`
        : "It accepts any API key (start it with --api-key KEY to have keys checked).",
    );
    await terminal.line("Point Relay or an SDK at it, for example:");
    for (const entry of providerEntries()) {
      await terminal.line(
        `  export ${entry.baseURLEnv}=${emulator.baseURL(entry.name)} ${entry.apiKeyEnv}=${key ?? "emulator"}`,
      );
    }
    await terminal.line("Stop with Ctrl-C.");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await emulator.close();
    return EXIT.ok;
  },
};
