/** Relay's emulator served by its own CLI in a separate process, so that its memory is never counted. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface EmulatorTiming {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
}

export const ZERO_TIMING: EmulatorTiming = { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 };

function peakRssOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round(Number(match[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

export class EmulatorProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** e.g. http://127.0.0.1:40123 */
    readonly origin: string,
  ) {}

  static async start(root: string, timing: EmulatorTiming): Promise<EmulatorProcess> {
    const child = spawn(
      process.execPath,
      [
        join(root, "dist/cli/main.js"),
        "emulator",
        "--port",
        "0",
        // Every bench client uses this key; the emulator refuses any other, as a provider would.
        "--api-key",
        "bench",
        "--validating-ms",
        String(timing.validatingMs),
        "--in-progress-ms",
        String(timing.inProgressMs),
        "--finalizing-ms",
        String(timing.finalizingMs),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const origin = await new Promise<string>((resolve, reject) => {
      let seen = "";
      const onData = (chunk: Buffer) => {
        seen += chunk.toString("utf8");
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match?.[1]) {
          child.stdout?.off("data", onData);
          child.stdout?.resume();
          resolve(match[1]);
        }
      };
      child.stdout?.on("data", onData);
      child.once("exit", (code) =>
        reject(new Error(`the emulator exited (${code}) before listening: ${seen}`)),
      );
      child.once("error", reject);
    });
    return new EmulatorProcess(child, origin);
  }

  /** Stops the emulator; returns its peak RSS in MB (for information: it is not part of any measurement). */
  async stop(): Promise<number | null> {
    const peak = peakRssOf(this.child.pid);
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await exited;
    }
    return peak;
  }
}
