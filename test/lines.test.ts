import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { streamLines } from "../src/util/lines.js";

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

const chunked = (chunks: (string | Buffer)[]) =>
  Readable.from(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));

describe("streamLines", () => {
  it("splits lines as readline does, wherever the chunks end", async () => {
    const cases: string[][] = [
      ["a\nb\n"],
      ["a\n\nb"],
      ["a\r\nb\r\n"],
      ["a\r", "\nb"],
      ["a\rb\rc"],
      ["x\r"],
      ["x\r\r\ny"],
      ["\n\n"],
      ["", "a"],
      ["a\n", "", "b\n\n"],
      ['{"k":"v"}\n{"k"', ':"w"}\n'],
    ];
    for (const chunks of cases) {
      const expected = await collect(
        createInterface({ input: chunked(chunks), crlfDelay: Number.POSITIVE_INFINITY }),
      );
      expect(await collect(streamLines(chunked(chunks))), JSON.stringify(chunks)).toEqual(expected);
    }
  });

  it("never cuts a character whose bytes are split between chunks", async () => {
    const bytes = Buffer.from("é漢😀\nplain\n");
    const chunks = Array.from(bytes, (byte) => Buffer.from([byte]));
    expect(await collect(streamLines(chunked(chunks)))).toEqual(["é漢😀", "plain"]);
  });
});
