import { stat } from "node:fs/promises";
import { readLines } from "../../util/lines.js";

/**
 * Small shards go inline in the create call (`inputConfig.requests.requests[]`), larger ones as an uploaded file.
 * The API refuses a request body over 20 MiB ("Request payload size exceeds the limit: 20971520 bytes"); Relay
 * keeps inline bodies under 20,000,000 bytes, counting what each line grows by when it is rewritten inline.
 */
const MAX_INLINE_BODY_BYTES = 20_000_000;
/** `{"key":K,"request":R}` becomes `{"request":R,"metadata":{"key":K}}`, 13 bytes longer, plus a comma. */
const GROWTH_PER_REQUEST = 14;
const WRAPPER_BYTES = 512;
const CHUNK_BYTES = 64 * 1024;

/** Whether a shard file is small enough to be sent inline. Counts its lines only when its size is close. */
export async function fitsInline(shardPath: string): Promise<boolean> {
  const { size } = await stat(shardPath);
  if (size + WRAPPER_BYTES >= MAX_INLINE_BODY_BYTES) return false;
  let lines = 0;
  for await (const line of readLines(shardPath)) if (line.trim() !== "") lines += 1;
  return size + WRAPPER_BYTES + lines * GROWTH_PER_REQUEST < MAX_INLINE_BODY_BYTES;
}

/** The first request of a shard (every request of a shard names the same model). */
export async function firstRequestOf(shardPath: string): Promise<Record<string, unknown>> {
  for await (const line of readLines(shardPath)) {
    if (line.trim() === "") continue;
    return (JSON.parse(line) as { request: Record<string, unknown> }).request;
  }
  throw new Error(`the shard file ${shardPath} holds no request`);
}

/**
 * The create body of an inline batch, streamed from the shard file: each `{"key", "request"}` line becomes an
 * InlinedRequest `{"request", "metadata": {"key"}}`.
 */
export async function* inlineCreateBody(shardPath: string, displayName: string): AsyncGenerator<Uint8Array> {
  let pending = `{"batch":{"displayName":${JSON.stringify(displayName)},"inputConfig":{"requests":{"requests":[`;
  let first = true;
  for await (const line of readLines(shardPath)) {
    if (line.trim() === "") continue;
    const { key, request } = JSON.parse(line) as { key: string; request: unknown };
    pending += `${first ? "" : ","}${JSON.stringify({ request, metadata: { key } })}`;
    first = false;
    if (pending.length >= CHUNK_BYTES) {
      yield Buffer.from(pending);
      pending = "";
    }
  }
  yield Buffer.from(`${pending}]}}}}`);
}
