import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { ValidationError } from "../errors.js";
import type { BatchRequest } from "../types.js";
import { readCsvRequests } from "./csv.js";
import { applyDefaults, type RequestDefaults } from "./defaults.js";
import { readRequestsFile, readRequestsStream } from "./jsonl.js";
import { readTextRequests } from "./txt.js";

/** The input formats `relay submit` reads, by file extension ("-" is JSONL on stdin). */
export const INPUT_FORMATS = {
  jsonl: [".jsonl", ".ndjson"],
  csv: [".csv"],
  txt: [".txt"],
} as const;

export type InputFormat = keyof typeof INPUT_FORMATS;

export interface RequestSource {
  /** The path, or "stdin". */
  label: string;
  format: InputFormat;
  requests: AsyncIterable<BatchRequest>;
}

const unreadable = (message: string) => new ValidationError(message, "invalid_input_file");

export function inputFormatOf(path: string): InputFormat | null {
  const extension = extname(path).toLowerCase();
  for (const [format, extensions] of Object.entries(INPUT_FORMATS)) {
    if ((extensions as readonly string[]).includes(extension)) return format as InputFormat;
  }
  return null;
}

/**
 * Opens a requests file by its extension (.jsonl, .csv, .txt) or "-" for JSONL on standard input, after checking
 * that it can be read; the requests are read lazily, as they are consumed. Defaults fill the fields a request does
 * not set (the model, for a text file).
 */
export async function openRequests(
  source: string,
  defaults: RequestDefaults,
  stdin: AsyncIterable<Buffer> = process.stdin,
): Promise<RequestSource> {
  if (source === "-") {
    return {
      label: "stdin",
      format: "jsonl",
      requests: applyDefaults(readRequestsStream(stdin, "stdin"), defaults),
    };
  }
  try {
    const info = await stat(source);
    if (info.isDirectory()) throw unreadable(`${source} is a directory, not a requests file.`);
    if (!info.isFile()) throw unreadable(`${source} is not a regular file.`);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw unreadable(`Cannot read the requests file ${source}: ${reason}.`);
  }
  const format = inputFormatOf(source);
  if (format === null) {
    throw unreadable(
      `${source}: unknown kind of requests file; use .jsonl (one request per line), .csv (with a header) or .txt ` +
        '(one prompt per line), or "-" for JSON lines on standard input.',
    );
  }
  // Every format gets the defaults the same way, after its reader has filled what its columns give.
  const requests = applyDefaults(
    format === "csv"
      ? readCsvRequests(source, defaults)
      : format === "txt"
        ? readTextRequests(source, defaults)
        : readRequestsFile(source),
    defaults,
  );
  return { label: source, format, requests };
}
