import { spawn } from "node:child_process";
import { InvalidArgumentError, Option } from "commander";
import { type Dashboard, startDashboard } from "../../dashboard/server.js";
import type { CommandDefinition } from "../define.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";

interface DashboardCommandOptions {
  port: number;
  host: string;
  allowRemote?: boolean;
  token?: string;
  allowedHost: string[];
  readOnly?: boolean;
  pollInterval: number;
  open?: boolean;
}

function port(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new InvalidArgumentError("a port from 0 to 65535");
  return number;
}

function seconds(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0)
    throw new InvalidArgumentError("a number of seconds, 0 or more");
  return number;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Opens the page in the desktop's browser; failing to is only worth a line. */
function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  const child = spawn(command, args as string[], { stdio: "ignore", detached: true });
  child.on("error", () => console.error(`Could not open a browser; open ${url} yourself.`));
  child.unref();
}

/** Serves until SIGINT or SIGTERM, then closes. */
function untilStopped(dashboard: Dashboard): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void dashboard.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** `relay dashboard`: a web page over the workspace's jobs. */
export const dashboardCommand: CommandDefinition = {
  name: "dashboard",
  summary: "Serve a web page over the workspace's jobs, live (on 127.0.0.1 unless told otherwise)",
  description:
    "Jobs (filtered, sorted, paged, with totals and cost), each job's batches as they run, its results, and the " +
    "actions refresh, cancel (confirmed), retry and download. Safe by default: loopback only, the Host header " +
    "checked, changes only by POST with a per-session token; another address needs --allow-remote and then an " +
    "access token. See the README's Dashboard section.",
  options: [
    new Option("--port <n>", "port to listen on (0: any free one)").argParser(port).default(8790),
    new Option("--host <address>", "address to listen on").default("127.0.0.1"),
    new Option(
      "--allow-remote",
      "allow an address beyond loopback; every request then needs the access token",
    ),
    new Option("--token <token>", "access token to require (generated with --allow-remote when not given)"),
    new Option("--allowed-host <name>", "another host name the page may be reached by (repeatable)")
      .argParser(collect)
      .default([]),
    new Option("--read-only", "only look: no refresh, cancel or retry, and no provider is asked"),
    new Option("--poll-interval <seconds>", "how often running jobs are checked at their provider (0: never)")
      .argParser(seconds)
      .default(30),
    new Option("--open", "open the page in the default browser"),
  ],
  examples: [
    "relay dashboard",
    "relay dashboard -d my_jobs --port 9000 --open",
    "relay dashboard --read-only --poll-interval 0 # look only; ask no provider",
    "relay dashboard --host 0.0.0.0 --allow-remote --allowed-host relay.internal # reachable from elsewhere, with a token",
  ],
  async run(context, _args, raw) {
    const options = raw as unknown as DashboardCommandOptions;
    const directory = context.directory;
    const dashboard = await startDashboard({
      directory,
      host: options.host,
      port: options.port,
      readOnly: options.readOnly ?? false,
      allowRemote: options.allowRemote ?? false,
      allowedHosts: options.allowedHost,
      pollIntervalMs: Math.round(options.pollInterval * 1000),
      ...(options.token ? { token: options.token } : {}),
    }).catch((error: unknown) => {
      // Options that cannot go together, or a workspace that is not there: a usage error (exit 64).
      const code = (error as { code?: unknown }).code;
      if (code === "remote_not_allowed" || code === "workspace_not_found")
        throw new UsageError((error as Error).message);
      throw error;
    });
    await context.terminal.line(`Relay dashboard for ${directory}: ${dashboard.url}`);
    if (options.readOnly) context.terminal.message("Read-only: nothing can be changed from the page.");
    if (dashboard.token)
      context.terminal.message("Every request needs the access token (in the address above, once).");
    context.terminal.message("Press Ctrl-C to stop.");
    if (options.open) openInBrowser(dashboard.url);
    await untilStopped(dashboard);
    return EXIT.ok;
  },
};
