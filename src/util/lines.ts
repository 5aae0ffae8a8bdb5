import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** The lines of a local text file, streamed. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const reader = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  try {
    for await (const line of reader) yield line;
  } finally {
    reader.close();
  }
}
