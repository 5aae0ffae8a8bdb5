import { spawn } from "node:child_process";
import { type Command, InvalidArgumentError } from "commander";
import { type Dashboard, startDashboard } from "../../dashboard/server.js";

interface DashboardCommandOptions {
  directory?: string;
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
export function registerDashboardCommand(program: Command): Command {
  return program
    .command("dashboard")
    .description("Serve a web page over the workspace's jobs, live (on 127.0.0.1 unless told otherwise)")
    .option("-d, --directory <dir>", "workspace directory (default: $RELAY_DIRECTORY or ./relay_jobs)")
    .option("--port <n>", "port to listen on (0: any free one)", port, 8790)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--allow-remote", "allow an address beyond loopback; every request then needs the access token")
    .option("--token <token>", "access token to require (generated with --allow-remote when not given)")
    .option("--allowed-host <name>", "another host name the page may be reached by (repeatable)", collect, [])
    .option("--read-only", "only look: no refresh, cancel or retry, and no provider is asked")
    .option(
      "--poll-interval <seconds>",
      "how often running jobs are checked at their provider (0: never)",
      seconds,
      30,
    )
    .option("--open", "open the page in the default browser")
    .action(async (options: DashboardCommandOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ directory?: string }>();
      const directory = options.directory ?? globals.directory ?? process.env.RELAY_DIRECTORY ?? "relay_jobs";
      const dashboard = await startDashboard({
        directory,
        host: options.host,
        port: options.port,
        readOnly: options.readOnly ?? false,
        allowRemote: options.allowRemote ?? false,
        allowedHosts: options.allowedHost,
        pollIntervalMs: Math.round(options.pollInterval * 1000),
        ...(options.token ? { token: options.token } : {}),
      });
      console.log(`Relay dashboard for ${directory}: ${dashboard.url}`);
      if (options.readOnly) console.log("Read-only: nothing can be changed from the page.");
      if (dashboard.token) console.log("Every request needs the access token (in the address above, once).");
      console.log("Press Ctrl-C to stop.");
      if (options.open) openInBrowser(dashboard.url);
      await untilStopped(dashboard);
    });
}
