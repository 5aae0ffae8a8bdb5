import { createInterface } from "node:readline";
import { Readable } from "node:stream";

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

/**
 * Reads a whole remote file line by line; if the connection drops midway the file is fetched again and the
 * lines already yielded are skipped, so the caller sees every line exactly once.
 */
export async function* resumableLines(
  open: () => Promise<ReadableStream<Uint8Array> | Readable | null>,
  attempts = 4,
): AsyncGenerator<string> {
  let delivered = 0;
  for (let attempt = 1; ; attempt += 1) {
    // A failure to open is final here: the HTTP client has already retried it.
    const body = await open();
    let seen = 0;
    try {
      for await (const line of linesOf(body)) {
        seen += 1;
        if (seen <= delivered) continue;
        delivered += 1;
        yield line;
      }
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
    }
  }
}
