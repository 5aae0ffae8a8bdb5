import { RelayError } from "../errors.js";
import { redactSecrets } from "../util/secrets.js";
import { forTerminal } from "./terminal.js";

/** The `relay` command's exit codes (documented in README.md, "Command line"). */
export const EXIT_CODES = {
  ok: 0,
  /** A Relay error: bad input, a provider refusal, a workspace problem; the message names its code. */
  relayError: 1,
  /** `wait` saw the job end in a status other than completed. */
  notCompleted: 2,
  /** The command line itself is wrong (unknown command or option, a missing or malformed value). */
  usage: 64,
  /** Something Relay did not expect: a bug, reported with its stack trace. */
  internal: 70,
} as const;

/** A mistake in the command line. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Errors of the operating system (a port in use, a file that cannot be read): ordinary conditions, not bugs. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const candidate = error as NodeJS.ErrnoException | null;
  return (
    candidate instanceof Error &&
    typeof candidate.code === "string" &&
    /^E[A-Z]+$/.test(candidate.code) &&
    (typeof candidate.syscall === "string" || typeof candidate.errno === "number")
  );
}

function isUsage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_"));
}

export function exitCodeFor(error: unknown): number {
  if (isUsage(error)) return EXIT_CODES.usage;
  if (error instanceof RelayError || isSystemError(error)) return EXIT_CODES.relayError;
  return EXIT_CODES.internal;
}

/** One line for stderr (several only for an unexpected error, whose stack is kept): redacted and terminal-safe. */
export function formatError(error: unknown): string {
  const clean = (text: string) => forTerminal(redactSecrets(text));
  const message = (error as Error | null)?.message ?? String(error);
  if (isUsage(error))
    return `relay: ${clean(message.replace(/\s*\n\s*/g, " "))}\nRun "relay --help" for usage.`;
  if (error instanceof RelayError) return `relay: ${clean(message)} [${error.code}]`;
  if (isSystemError(error)) return `relay: ${clean(message)}`;
  const stack = (error as Error | null)?.stack ?? message;
  return `relay: unexpected error (please report it): ${redactSecrets(stack)}`;
}
