/**
 * The submission floor, in its own process: the same n requests encoded as the same JSONL lines Relay sends, written
 * into shard files of the same size (50,000 requests), each streamed to the emulator's `POST /files` over node:http
 * as soon as it is closed, while the next is written (at most 4 at once, as Relay) — and nothing else: no
 * validation, no duplicate check, no digest, no record, no batch creation.
 */
import { closeSync, createReadStream, openSync, statSync, writeSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { runChild } from "./measure.js";
import { ENDPOINT, idOf, MODEL, promptOf } from "./workload.js";

const SHARD_REQUESTS = 50_000;
const CONCURRENCY = 4;
const BOUNDARY = "relay-bench-floor-boundary";

/** Streams one file as a multipart upload; resolves with the answer's status. */
function upload(origin: string, path: string): Promise<number> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="shard.jsonl"\r\n` +
      "Content-Type: application/jsonl\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const size = head.length + statSync(path).size + tail.length;
  return new Promise((resolve, reject) => {
    const call = request(
      `${origin}/openai/v1/files`,
      {
        method: "POST",
        headers: {
          authorization: "Bearer bench",
          "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
          "content-length": size,
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    call.on("error", reject);
    call.write(head);
    pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), call, { end: false })
      .then(() => call.end(tail))
      .catch(reject);
  });
}

await runChild("submit-floor", async (config, recorder) => {
  const { size, emulator, workspace } = config;
  if (!emulator || !workspace) throw new Error("the submission floor needs the emulator and a directory");
  const directory = join(workspace, "submit-floor");
  await mkdir(directory, { recursive: true });
  let shards = 0;
  let failures = 0;
  await recorder.phase("submit", async () => {
    const uploads = new Set<Promise<void>>();
    const send = async (path: string) => {
      while (uploads.size >= CONCURRENCY) await Promise.race(uploads);
      const done: Promise<void> = upload(emulator, path).then((status) => {
        if (status !== 200) failures += 1;
        uploads.delete(done);
      });
      uploads.add(done);
    };
    const chunk = Buffer.allocUnsafe(256 * 1024);
    for (let start = 0; start < size; start += SHARD_REQUESTS) {
      const path = join(directory, `shard-${shards}.jsonl`);
      const fd = openSync(path, "w");
      let used = 0;
      for (let index = start; index < Math.min(size, start + SHARD_REQUESTS); index += 1) {
        const line = `${JSON.stringify({
          custom_id: idOf(index),
          method: "POST",
          url: ENDPOINT,
          body: { model: MODEL, input: promptOf(index) },
        })}\n`;
        if (used + line.length * 3 > chunk.length) {
          writeSync(fd, chunk, 0, used);
          used = 0;
        }
        used += chunk.write(line, used);
        // Let the uploads in flight move on while this shard is written.
        if (index % 1024 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      writeSync(fd, chunk, 0, used);
      closeSync(fd);
      shards += 1;
      await send(path);
    }
    await Promise.all(uploads);
  });
  await rm(directory, { recursive: true, force: true });
  if (failures > 0) throw new Error(`${failures} upload(s) refused`);
  recorder.notes.push(`${shards} shard files uploaded`);
  return {};
});
