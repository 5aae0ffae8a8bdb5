import { readLines } from "../../util/lines.js";

const CHUNK_BYTES = 64 * 1024;

/**
 * The create-batch body `{"requests":[…]}` streamed from a shard file, whose lines are already the request
 * objects. Parsing them into objects for the SDK to serialise again would hold several times the shard in memory.
 */
export async function* createBodyFromShard(shardPath: string): AsyncGenerator<Uint8Array> {
  let pending = '{"requests":[';
  let first = true;
  for await (const line of readLines(shardPath)) {
    if (line.trim() === "") continue;
    pending += first ? line : `,${line}`;
    first = false;
    if (pending.length >= CHUNK_BYTES) {
      yield Buffer.from(pending);
      pending = "";
    }
  }
  yield Buffer.from(`${pending}]}`);
}
