import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

export interface RelayRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RelayOptions {
  /** Written to the command's standard input, which is then closed (default: nothing, closed). */
  input?: string | Buffer;
  /** Called with each complete line of stdout as it arrives (to move an emulator's clock, say). */
  onLine?: (line: string) => void;
  /** Run as this user and group (to test what a user without write access sees, when the tests run as root). */
  uid?: number;
  gid?: number;
  cwd?: string;
  /** The process is killed after this long (its code is then -1). Default 60 s. */
  timeoutMs?: number;
}

function collect(child: ChildProcess, options: RelayOptions): Promise<RelayRun> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let pending = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      if (!options.onLine) return;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) options.onLine(line);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr });
    });
  });
}

/** Runs the built `relay` command in its own process; never throws, so exit codes can be asserted. */
export function relay(
  args: string[],
  env: Record<string, string> = {},
  options: RelayOptions = {},
): Promise<RelayRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const run = collect(child, options);
  child.stdin?.on("error", () => {});
  child.stdin?.end(options.input ?? "");
  return run;
}

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `relay` on a pseudo-terminal (util-linux `script`), as a person at a terminal would see it: its stdout is a
 * TTY. The output is the terminal's, escape sequences included; the code is relay's own (`script -e`).
 */
export function relayOnTerminal(
  args: string[],
  env: Record<string, string>,
  options: RelayOptions = {},
): Promise<RelayRun> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(" ");
  const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", TERM: "xterm-256color", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const run = collect(child, options);
  // `script` passes its stdin to the terminal; kept open, so that the session is not ended early.
  child.stdin?.on("error", () => {});
  return run.finally(() => child.stdin?.destroy());
}

/** Starts `relay` without waiting for it, to be killed midway. */
export function startRelay(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
