import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";

/**
 * The lines of a byte stream, split where the bytes hold a line break (`\n`, `\r\n` or a lone `\r`, as readline
 * splits them) and decoded as UTF-8 one line at a time: a break byte never occurs inside a multi-byte character,
 * so no character is cut. Faster than readline for long runs of JSON lines.
 */
export async function* streamLines(input: Readable): AsyncGenerator<string> {
  let carry: Buffer | null = null;
  let pendingReturn = false;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (pendingReturn && data[0] === 10) data = data.subarray(1);
    pendingReturn = false;
    if (carry) data = Buffer.concat([carry, data]);
    carry = null;
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline === -1) break;
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      yield* splitReturns(data.toString("utf8", start, end));
      start = newline + 1;
    }
    if (start < data.length) {
      // A lone \r at the end of a chunk may be the first half of \r\n.
      if (data[data.length - 1] === 13) {
        yield* splitReturns(data.toString("utf8", start, data.length - 1));
        pendingReturn = true;
      } else carry = Buffer.from(data.subarray(start));
    }
  }
  if (carry) yield* splitReturns(carry.toString("utf8"));
}

/** A line that still holds lone carriage returns is several lines. */
function splitReturns(line: string): string[] {
  return line.includes("\r") ? line.split("\r") : [line];
}

/** The lines of a local text file, streamed. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const input = createReadStream(path, { highWaterMark: 256 * 1024 });
  try {
    yield* streamLines(input);
  } finally {
    input.destroy();
  }
}
