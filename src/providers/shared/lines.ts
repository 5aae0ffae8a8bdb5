import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { CompactStringSet } from "../../jobs/id-set.js";
import { streamLineBatches } from "../../util/lines.js";

/** A streamed HTTP body (a web ReadableStream or a Node stream) as a Node stream. */
function nodeStream(body: ReadableStream<Uint8Array> | Readable): Readable {
  return body instanceof Readable ? body : Readable.fromWeb(body as import("node:stream/web").ReadableStream);
}

/** Non-empty lines of a streamed HTTP body, without holding the body in memory. */
export async function* linesOf(body: ReadableStream<Uint8Array> | Readable | null): AsyncGenerator<string> {
  for await (const lines of lineBatchesOf(body)) yield* lines;
}

/** Non-empty lines of a streamed HTTP body, a chunk's worth at a time. */
async function* lineBatchesOf(body: ReadableStream<Uint8Array> | Readable | null): AsyncGenerator<string[]> {
  if (!body) return;
  const input = nodeStream(body);
  try {
    for await (const lines of streamLineBatches(input)) {
      const kept = lines.filter((line) => line.trim() !== "");
      if (kept.length > 0) yield kept;
    }
  } finally {
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
    const batches = lineBatchesOf(await open());
    let cut: unknown;
    // Each line is passed on only once the next one has arrived (or the body has ended): the line before a cut
    // may be a piece of one, and is read again from the next download instead.
    let pending: string | undefined;
    const fresh = (record: T) => {
      const id = options.idOf(record);
      return id === undefined || delivered.add(id);
    };
    try {
      for (;;) {
        let next: IteratorResult<string[]>;
        try {
          next = await batches.next();
        } catch (error) {
          cut = error;
          break;
        }
        if (next.done) {
          if (pending === undefined) return;
          let last: T;
          try {
            last = options.parse(pending);
          } catch (error) {
            // A last line that does not parse is most likely cut short (a body can end early without an
            // error): read again. One that is broken in the file fails every attempt, and the error is given.
            cut = error;
            break;
          }
          if (fresh(last)) yield last;
          return;
        }
        for (const line of next.value) {
          // A line followed by another is whole: if it does not parse, the file itself is broken.
          if (pending !== undefined) {
            const record = options.parse(pending);
            if (fresh(record)) yield record;
          }
          pending = line;
        }
      }
    } finally {
      await batches.return(undefined).catch(() => {});
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
