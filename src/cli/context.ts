import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { RelayClient } from "../client.js";
import { RelayError } from "../errors.js";
import { providerEntries } from "../providers/registry.js";
import type { ProviderConfig } from "../providers/types.js";
import type { ProviderName } from "../types.js";
import { UsageError } from "./errors.js";
import type { Terminal } from "./output/terminal.js";

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  directory?: string;
  /** Seconds. */
  requestTimeout?: number;
}

export const DEFAULT_DIRECTORY = "relay_jobs";

/** Per-request timeout bounds, in milliseconds (RELAY_REQUEST_TIMEOUT_MS and --request-timeout). */
export const REQUEST_TIMEOUT_MS = { min: 100, max: 24 * 3_600_000 } as const;

/** What a command runs with: the terminal, the environment, the global options, and a client built from them. */
export class CliContext {
  constructor(
    readonly terminal: Terminal,
    readonly env: NodeJS.ProcessEnv,
    readonly globals: GlobalOptions,
  ) {}

  /** -d/--directory, else RELAY_DIRECTORY, else ./relay_jobs. */
  get directory(): string {
    return this.globals.directory ?? (this.env.RELAY_DIRECTORY || DEFAULT_DIRECTORY);
  }

  /** --request-timeout (seconds), else RELAY_REQUEST_TIMEOUT_MS, else the providers' default. */
  requestTimeoutMs(): number | undefined {
    if (this.globals.requestTimeout !== undefined) return Math.round(this.globals.requestTimeout * 1000);
    const fromEnv = this.env.RELAY_REQUEST_TIMEOUT_MS;
    if (fromEnv === undefined || fromEnv === "") return undefined;
    const ms = Number(fromEnv);
    if (!Number.isInteger(ms) || ms < REQUEST_TIMEOUT_MS.min || ms > REQUEST_TIMEOUT_MS.max) {
      throw new UsageError(
        `RELAY_REQUEST_TIMEOUT_MS must be a whole number of milliseconds from ${REQUEST_TIMEOUT_MS.min} to ` +
          `${REQUEST_TIMEOUT_MS.max}, not ${JSON.stringify(fromEnv)}.`,
      );
    }
    return ms;
  }

  /**
   * A client on the workspace, with keys and base URLs from the environment and the request timeout applied to
   * every provider. A workspace path that is not a directory is refused here, with a clear message.
   */
  async client(
    options: { directory?: string; providers?: Partial<Record<ProviderName, ProviderConfig>> } = {},
  ): Promise<RelayClient> {
    const directory = options.directory ?? this.directory;
    await assertUsableWorkspace(directory);
    const timeoutMs = this.requestTimeoutMs();
    const providers: Partial<Record<ProviderName, ProviderConfig>> = {};
    for (const entry of providerEntries()) {
      const config = {
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...options.providers?.[entry.name],
      };
      if (Object.keys(config).length > 0) providers[entry.name] = config;
    }
    const { RelayClient } = await import("../client.js");
    return new RelayClient({
      directory,
      providers,
      env: this.env,
      // A call that is retried is said on stderr, so that a hung or failing provider is visible while waiting.
      onRetry: (notice) => this.terminal.message(`relay: ${notice.provider}: ${notice.message}`),
    });
  }
}

/** A workspace path is usable when it is a directory or does not exist yet (it is then created). */
async function assertUsableWorkspace(directory: string): Promise<void> {
  const path = resolve(directory);
  try {
    if ((await stat(path)).isDirectory()) return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code !== "ENOTDIR") throw error;
  }
  throw new RelayError(
    "workspace_not_a_directory",
    `The workspace ${path} is not a directory. Give a directory with -d DIR (or RELAY_DIRECTORY).`,
  );
}
