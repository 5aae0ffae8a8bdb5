import { CommanderError } from "commander";
import { RelayError, WaitTimeoutError } from "../errors.js";
import { EXIT } from "./exit-codes.js";
import type { Terminal } from "./output/terminal.js";

/** Bad use of the command line (exit 64): the message says what to type instead. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Ctrl-C while waiting (exit 130). */
export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
}

const SYSTEM_REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory",
  ENOENT: "no such file or directory",
  ENOSPC: "no space left on device",
  EEXIST: "already exists",
  EMFILE: "too many open files",
};

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

/** What went wrong, in one line, and the exit code it maps to. Never a stack trace, except a bug's under RELAY_DEBUG. */
export function reportError(error: unknown, terminal: Terminal, env: NodeJS.ProcessEnv): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (through the program's outputError).
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError) {
    terminal.error(`${error.message}\nRun "relay --help" for usage.`);
    return EXIT.usage;
  }
  if (error instanceof InterruptedError) {
    terminal.error(error.message);
    return EXIT.interrupted;
  }
  if (error instanceof WaitTimeoutError) {
    terminal.error(`${error.message} [${error.code}]`);
    return EXIT.waitTimeout;
  }
  if (error instanceof RelayError) {
    terminal.error(`${error.message} [${error.code}]`);
    return EXIT.error;
  }
  if (isSystemError(error)) {
    const code = error.code as string;
    const where = error.path ? ` ${error.path}` : "";
    const reason = SYSTEM_REASONS[code] ?? error.message;
    const action = error.syscall ? `${error.syscall}${where}` : where.trim() || "file operation";
    terminal.error(`cannot ${action}: ${reason} [${code}]`);
    return EXIT.error;
  }
  const detail = env.RELAY_DEBUG
    ? ((error as Error)?.stack ?? String(error))
    : String((error as Error)?.message ?? error);
  terminal.error(`internal error: ${detail}${env.RELAY_DEBUG ? "" : " (RELAY_DEBUG=1 shows where)"}`);
  return EXIT.internal;
}
