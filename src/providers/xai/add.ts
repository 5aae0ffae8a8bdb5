import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { readLines } from "../../util/lines.js";
import { ADD_BODY_OVERHEAD_BYTES, ADD_BODY_PREFIX, ADD_BODY_SUFFIX } from "./limits.js";

/**
 * Adding a shard's requests to an xAI batch: which add calls to make, and each call's body streamed from the shard
 * file. A shard line is already a batch request item, and lines are separated by one newline byte, so a run of
 * consecutive lines becomes `{"batch_requests":[…]}` by turning each newline into a comma: the body is a byte range
 * of the file, never held in memory, and its length is known before it is sent.
 */

/** One add call: the shard's lines [fromLine, toLine), at bytes [fromByte, toByte) of the file (newlines included). */
export interface AddCall {
  fromLine: number;
  toLine: number;
  fromByte: number;
  toByte: number;
}

export interface AddPlan {
  calls: AddCall[];
  /** Lines in the shard. */
  lines: number;
}

function idOf(line: string): string | undefined {
  const id = (JSON.parse(line) as { batch_request_id?: unknown }).batch_request_id;
  return typeof id === "string" ? id : undefined;
}

/**
 * The calls that add the shard's lines from `from` on, each body at most `maxBodyBytes`, leaving out the requests
 * `present` says the batch already holds (when the count `from` may be behind). Reads the file once, as a stream.
 */
export async function planAddCalls(
  shardPath: string,
  options: { from: number; present: ReadonlySet<string> | null; maxBodyBytes: number },
): Promise<AddPlan> {
  const calls: AddCall[] = [];
  let open: AddCall | null = null;
  let line = 0;
  let offset = 0;
  for await (const text of readLines(shardPath)) {
    const bytes = Buffer.byteLength(text) + 1;
    const start = offset;
    offset += bytes;
    line += 1;
    const held = line - 1 < options.from || options.present?.has(idOf(text) ?? "") === true;
    if (held) {
      open = null;
      continue;
    }
    if (open && ADD_BODY_OVERHEAD_BYTES + (open.toByte - open.fromByte) + bytes > options.maxBodyBytes)
      open = null;
    if (!open) {
      open = { fromLine: line - 1, toLine: line - 1, fromByte: start, toByte: start };
      calls.push(open);
    }
    open.toLine = line;
    open.toByte = offset;
  }
  return { calls, lines: line };
}

/** How many of the shard's first lines the batch holds once `calls[index]` (or, for -1, none of them) has been made. */
export function heldAfter(plan: AddPlan, index: number): number {
  return plan.calls[index + 1]?.fromLine ?? plan.lines;
}

export function addCallBytes(call: AddCall): number {
  return ADD_BODY_OVERHEAD_BYTES + (call.toByte - call.fromByte);
}

async function* addCallChunks(shardPath: string, call: AddCall): AsyncGenerator<Buffer> {
  yield Buffer.from(ADD_BODY_PREFIX);
  // The range stops before the last line's newline; every other newline becomes the comma between two requests.
  const lines = createReadStream(shardPath, { start: call.fromByte, end: call.toByte - 2 });
  for await (const chunk of lines as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) chunk[at] = 44;
    yield chunk;
  }
  yield Buffer.from(ADD_BODY_SUFFIX);
}

/** The body of one add call, opened afresh each time it is sent. */
export function addCallBody(shardPath: string, call: AddCall): () => Readable {
  return () => Readable.from(addCallChunks(shardPath, call));
}
