import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";

/**
 * The lines of a byte stream, a chunk's worth at a time (one await per chunk rather than per line), split where the
 * bytes hold a line break (`\n`, `\r\n` or a lone `\r`, as readline splits them) and decoded as UTF-8 one line at a
 * time: a break byte never occurs inside a multi-byte character, so no character is cut.
 */
export async function* streamLineBatches(input: Readable): AsyncGenerator<string[]> {
  let carry: Buffer | null = null;
  let pendingReturn = false;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (pendingReturn && data[0] === 10) data = data.subarray(1);
    pendingReturn = false;
    if (carry) data = Buffer.concat([carry, data]);
    carry = null;
    // Carriage returns are rare: lines are only searched for them when the chunk holds one.
    const returns = data.indexOf(13) !== -1;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline === -1) break;
      const end = returns && newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      const line = data.toString("utf8", start, end);
      if (returns && line.includes("\r")) lines.push(...line.split("\r"));
      else lines.push(line);
      start = newline + 1;
    }
    if (start < data.length) {
      // A lone \r at the end of a chunk may be the first half of \r\n.
      if (data[data.length - 1] === 13) {
        lines.push(...data.toString("utf8", start, data.length - 1).split("\r"));
        pendingReturn = true;
      } else carry = Buffer.from(data.subarray(start));
    }
    if (lines.length > 0) yield lines;
  }
  if (carry) yield carry.toString("utf8").split("\r");
}

/** The lines of a byte stream (see streamLineBatches), one at a time. */
export async function* streamLines(input: Readable): AsyncGenerator<string> {
  for await (const lines of streamLineBatches(input)) yield* lines;
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
