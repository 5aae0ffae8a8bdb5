import { createReadStream } from "node:fs";
import { ValidationError } from "../errors.js";
import type { BatchRequest } from "../types.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeLine(bytes: Buffer, label: string, lineNumber: number): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ValidationError(`${label}, line ${lineNumber}: not valid UTF-8.`, "invalid_input_file");
  }
}

/**
 * The lines of a byte stream as strings, split on bytes so that invalid UTF-8 is reported instead of replaced.
 * `label` names the source in errors (a path, or "stdin").
 */
export async function* strictLines(
  source: AsyncIterable<Buffer>,
  label: string,
): AsyncGenerator<{ text: string; lineNumber: number }> {
  let pending: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  for await (const chunk of source) {
    let buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let newline = buffer.indexOf(10);
    while (newline !== -1) {
      lineNumber += 1;
      const end = newline > 0 && buffer[newline - 1] === 13 ? newline - 1 : newline;
      yield { text: decodeLine(buffer.subarray(0, end), label, lineNumber), lineNumber };
      buffer = buffer.subarray(newline + 1);
      newline = buffer.indexOf(10);
    }
    pending = Buffer.from(buffer);
  }
  if (pending.length > 0)
    yield { text: decodeLine(pending, label, lineNumber + 1), lineNumber: lineNumber + 1 };
}

/**
 * Reads BatchRequest objects from a JSONL file, one per line (blank lines skipped), streamed. A malformed line is
 * a ValidationError naming the file and line.
 */
export function readRequestsFile(path: string): AsyncGenerator<BatchRequest> {
  return readRequestsStream(createReadStream(path), path);
}

/** Reads BatchRequest objects as JSON lines from a byte stream (stdin, say); `label` names it in errors. */
export async function* readRequestsStream(
  source: AsyncIterable<Buffer>,
  label: string,
): AsyncGenerator<BatchRequest> {
  for await (const { text, lineNumber } of strictLines(source, label)) {
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
