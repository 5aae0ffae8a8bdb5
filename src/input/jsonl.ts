import { createReadStream } from "node:fs";
import { ValidationError } from "../errors.js";
import { providerEntries } from "../providers/registry.js";
import type { BatchRequest } from "../types.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The largest request any registered provider accepts: a longer line cannot be sent anywhere. */
export function largestRequestBytes(): number {
  return Math.max(...providerEntries().map((entry) => entry.limits.maxBytesPerRequest));
}

export interface ReadRequestsOptions {
  /** Longest line accepted, in bytes; a longer one is refused as soon as it passes. Default: largestRequestBytes(). */
  maxLineBytes?: number;
}

function decodeLine(bytes: Buffer, label: string, lineNumber: number): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ValidationError(`${label}, line ${lineNumber}: not valid UTF-8.`, "invalid_input_file");
  }
}

function unreadable(label: string, error: unknown): ValidationError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT"
      ? "there is no such file"
      : code === "EISDIR"
        ? "it is a directory"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : ((error as Error).message ?? String(error));
  return new ValidationError(`cannot read the requests file ${label}: ${why}.`, "invalid_input_file");
}

/**
 * The lines of a byte stream as strings, split on bytes so that invalid UTF-8 is reported instead of replaced.
 * The pieces of a line are kept apart until its end arrives, so a long line costs linear time, and a line is
 * refused as soon as it passes `maxLineBytes`, without reading the rest of it. `label` names the source in errors
 * (a path, or "stdin").
 */
export async function* strictLines(
  source: AsyncIterable<Buffer>,
  label: string,
  maxLineBytes: number = largestRequestBytes(),
): AsyncGenerator<{ text: string; lineNumber: number }> {
  let pieces: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;
  const tooLong = () =>
    new ValidationError(
      `${label}, line ${lineNumber + 1}: longer than ${maxLineBytes} bytes, more than any provider accepts for ` +
        "one request.",
      "request_too_large",
    );
  const take = (tail: Buffer): Buffer => {
    const line = pieces.length === 0 ? tail : Buffer.concat([...pieces, tail], pendingBytes + tail.length);
    pieces = [];
    pendingBytes = 0;
    return line;
  };
  try {
    for await (const chunk of source) {
      let start = 0;
      let newline = chunk.indexOf(10, start);
      while (newline !== -1) {
        if (pendingBytes + newline - start > maxLineBytes) throw tooLong();
        let line = take(chunk.subarray(start, newline));
        if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
        lineNumber += 1;
        yield { text: decodeLine(line, label, lineNumber), lineNumber };
        start = newline + 1;
        newline = chunk.indexOf(10, start);
      }
      if (start < chunk.length) {
        pendingBytes += chunk.length - start;
        if (pendingBytes > maxLineBytes) throw tooLong();
        // A copy: the stream may reuse its buffer.
        pieces.push(Buffer.from(chunk.subarray(start)));
      }
    }
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw unreadable(label, error);
  } finally {
    (source as { destroy?: () => void }).destroy?.();
  }
  if (pendingBytes > 0)
    yield { text: decodeLine(take(Buffer.alloc(0)), label, lineNumber + 1), lineNumber: lineNumber + 1 };
}

/**
 * Reads BatchRequest objects from a JSONL file, one per line (blank lines skipped), streamed. A malformed line is
 * a ValidationError naming the file and line; so is a line longer than any provider accepts for one request.
 */
export function readRequestsFile(
  path: string,
  options: ReadRequestsOptions = {},
): AsyncGenerator<BatchRequest> {
  return readRequestsStream(createReadStream(path), path, options);
}

/** Reads BatchRequest objects as JSON lines from a byte stream (stdin, say); `label` names it in errors. */
export async function* readRequestsStream(
  source: AsyncIterable<Buffer>,
  label: string,
  options: ReadRequestsOptions = {},
): AsyncGenerator<BatchRequest> {
  const maxLineBytes = options.maxLineBytes ?? largestRequestBytes();
  for await (const { text, lineNumber } of strictLines(source, label, maxLineBytes)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ValidationError(
        `${label}, line ${lineNumber}: not valid JSON (${(error as Error).message}).`,
        "invalid_input_file",
      );
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new ValidationError(
        `${label}, line ${lineNumber}: expected a JSON object (a request).`,
        "invalid_input_file",
      );
    }
    yield value as BatchRequest;
  }
}
