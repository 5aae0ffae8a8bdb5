/**
 * The floor: the same results read with readline + JSON.parse and nothing else, in its own process.
 * - files + format "jsonl": the emulator's output files, downloaded once to disk (what the provider returns).
 * - files + format "relay-array": Relay's merged `<job>_results.json` (a JSON array, one element per line).
 * - fileIds: the same output files streamed over HTTP from the emulator (not through the counting proxy).
 */
import { createReadStream } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { runChild } from "./measure.js";

async function parseLines(input: Readable, relayArray: boolean): Promise<number> {
  let count = 0;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line === "") continue;
    if (relayArray) {
      if (line === "[" || line === "]") continue;
      JSON.parse(line.endsWith(",") ? line.slice(0, -1) : line);
    } else {
      JSON.parse(line);
    }
    count += 1;
  }
  return count;
}

function download(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { authorization: "Bearer bench" } }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${response.statusCode}`));
      else resolve(response);
    }).on("error", reject);
  });
}

await runChild("floor", async (config, recorder) => {
  let results = 0;
  if (config.fileIds) {
    const { emulator, fileIds } = config;
    if (!emulator) throw new Error("the HTTP floor needs the emulator's origin");
    await recorder.phase("read", async () => {
      for (const id of fileIds) {
        results += await parseLines(await download(`${emulator}/openai/v1/files/${id}/content`), false);
      }
    });
  } else {
    const files = config.files ?? [];
    await recorder.phase("read", async () => {
      for (const file of files) {
        results += await parseLines(createReadStream(file), config.format === "relay-array");
      }
    });
  }
  return {
    check: {
      results,
      outOfOrder: 0,
      notSucceeded: 0,
      missing: Math.max(0, config.size - results),
      duplicates: 0,
    },
  };
});
