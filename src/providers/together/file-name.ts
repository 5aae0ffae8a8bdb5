import { createReadStream } from "node:fs";
import type { ShardTags } from "../types.js";

/*
 * Together's BatchJob reports no request counts (only `progress`, 0–100) and takes no metadata. The one place Relay
 * can leave a note at the provider is the name of the uploaded input file, which `GET /files/{id}` returns. So each
 * shard is uploaded under a name that carries its job, shard, submission and request count; any process, not only
 * the one that submitted, can then turn `progress` into request counts. (The Python Relay kept the count in
 * memory, so monitoring from a new process failed.)
 */

export function uploadFileName(tags: ShardTags, requestCount: number): string {
  return `relay_${tags.jobId}_shard${tags.shardIndex}_${tags.submissionId}_n${requestCount}.jsonl`;
}

/** The request count written into an upload name by uploadFileName, or undefined for any other name. */
export function requestCountFromFileName(fileName: string): number | undefined {
  const match = /_n(\d+)\.jsonl$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

/** Lines in a local file (a last line without a newline counts), read as a stream. */
export async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let index = chunk.indexOf(0x0a); index !== -1; index = chunk.indexOf(0x0a, index + 1)) lines += 1;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  return last === 0x0a ? lines : lines + 1;
}
