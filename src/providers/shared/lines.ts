import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { CompactStringSet } from "../../jobs/id-set.js";

/** Non-empty lines of a streamed HTTP body (a web ReadableStream), without holding the body in memory. */
export async function* linesOf(body: ReadableStream<Uint8Array> | Readable | null): AsyncGenerator<string> {
  if (!body) return;
  const input =
    body instanceof Readable ? body : Readable.fromWeb(body as import("node:stream/web").ReadableStream);
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of reader) {
      if (line.trim() !== "") yield line;
    }
  } finally {
    reader.close();
    input.destroy();
  }
}

export type OpenBody = () => Promise<ReadableStream<Uint8Array> | Readable | null>;

export interface ResumableOptions<T> {
  /** One line as a record. A line that cannot be parsed is an error of the file, not of the download. */
  parse: (line: string) => T;
  /** The record's identity (its custom_id); a record without one is passed on as it comes. */
  idOf: (record: T) => string | undefined;
  /** Downloads in all, counting the first. Default 4. */
  attempts?: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a whole remote file of records; if the connection drops midway the file is fetched again from the start
 * and every record whose identity was already passed on is skipped. Nothing promises that a provider serves a
 * file in the same order twice, so skipping by position could drop some records and repeat others; skipping by
 * identity cannot. The caller sees every record once (the first, should the file itself repeat one). The
 * identities taken cost about their bytes plus 10 each (a CompactStringSet), so a million of them fit in ~25 MB.
 */
export async function* resumableRecords<T>(open: OpenBody, options: ResumableOptions<T>): AsyncGenerator<T> {
  const attempts = options.attempts ?? 4;
  const delivered = new CompactStringSet();
  for (let attempt = 1; ; attempt += 1) {
    // A failure to open is final here: the HTTP client has already retried it.
    const lines = linesOf(await open());
    let cut: unknown;
    try {
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await lines.next();
        } catch (error) {
          cut = error;
          break;
        }
        if (next.done) return;
        const record = options.parse(next.value);
        const id = options.idOf(record);
        if (id !== undefined && !delivered.add(id)) continue;
        yield record;
      }
    } finally {
      await lines.return(undefined).catch(() => {});
    }
    if (attempt >= attempts) throw cut;
    await pause(200 * 2 ** (attempt - 1));
  }
}

/** A line's identity when nothing better is known: a digest of its bytes (a repeated line is the same record). */
function lineDigest(line: string): string {
  return createHash("sha256").update(line).digest("base64").slice(0, 24);
}

/**
 * Reads a whole remote file line by line, resuming a cut download by the lines' content (see resumableRecords).
 * Prefer resumableRecords with the records' own identity, which also survives a provider that re-serialises.
 */
export function resumableLines(
  open: OpenBody,
  options: number | { attempts?: number; idOf?: (line: string) => string | undefined } = {},
): AsyncGenerator<string> {
  const { attempts, idOf } = typeof options === "number" ? { attempts: options, idOf: undefined } : options;
  return resumableRecords(open, {
    parse: (line) => line,
    idOf: idOf ?? lineDigest,
    ...(attempts === undefined ? {} : { attempts }),
  });
}

/** The custom_id of a parsed result record in any provider's batch format, as the identity for resumption. */
export function customIdOf(record: unknown): string | undefined {
  const id = (record as { custom_id?: unknown } | null)?.custom_id;
  return typeof id === "string" ? id : undefined;
}
