import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "../errors.js";
import type { ProviderAdapter, ProviderLimits } from "../providers/types.js";
import type { BatchRequest } from "../types.js";
import { LineWriter } from "../util/line-writer.js";
import { CompactStringSet } from "./id-set.js";
import { estimatePromptTokens } from "./tokens.js";
import { checkEncodedSize, validateRequest } from "./validate.js";

export interface PlannedShard {
  index: number;
  model: string | null;
  nRequests: number;
  bytes: number;
  /** Estimated prompt tokens (see estimatePromptTokens). */
  tokens: number;
}

/** File names inside a job's private directory. */
export const shardFile = (index: number) => `shard-${String(index).padStart(4, "0")}.jsonl`;
export const shardIdsFile = (index: number) => `shard-${String(index).padStart(4, "0")}.ids`;
/** Results of a shard as they arrived, before they are put in order. */
export const shardSpillFile = (index: number) => `shard-${String(index).padStart(4, "0")}.arrived.jsonl`;
/** One line per request, in the order given: the index of the shard that holds it. */
export const ORDER_FILE = "order.txt";

interface OpenShard extends PlannedShard {
  lines: LineWriter;
  ids: LineWriter;
}

/**
 * Validates the requests and writes them, encoded for the provider, into shard files that respect the provider's
 * limits (requests and bytes per batch, one model per batch where required). Streams: memory does not grow with
 * the number of requests beyond the set of IDs used to reject duplicates.
 */
export async function planShards(options: {
  requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>;
  adapter: ProviderAdapter;
  /** The adapter's limits, possibly lowered by the caller's configuration. */
  limits: ProviderLimits;
  /** Estimated prompt tokens a shard may hold at most (an enqueued-token budget), per model; none when absent. */
  maxTokensPerBatch?: (model: string) => number | undefined;
  endpoint: string | null;
  directory: string;
  /** The largest job accepted, in requests and in encoded bytes: past it the input is refused (job_too_large). */
  maxRequestsPerJob?: number;
  maxBytesPerJob?: number;
}): Promise<{ shards: PlannedShard[]; nRequests: number; digest: string }> {
  const { adapter, directory, limits } = options;
  await mkdir(directory, { recursive: true });
  const order = new LineWriter(join(directory, ORDER_FILE));
  const shards: PlannedShard[] = [];
  const open = new Map<string, OpenShard>();
  const writers: LineWriter[] = [order];
  const seenIds = new CompactStringSet();
  const digest = createHash("sha256");
  const maxRequests = options.maxRequestsPerJob ?? Number.POSITIVE_INFINITY;
  const maxBytes = options.maxBytesPerJob ?? Number.POSITIVE_INFINITY;
  let position = 0;
  let totalBytes = 0;

  const closeShard = async (key: string) => {
    const shard = open.get(key);
    if (!shard) return;
    open.delete(key);
    await Promise.all([shard.lines.close(), shard.ids.close()]);
  };

  try {
    for await (const request of options.requests) {
      if (position >= maxRequests) {
        throw new ValidationError(
          `The job has more than ${maxRequests} requests, the most one job may hold (maxRequestsPerJob). ` +
            "Split the requests into several jobs, or raise the limit if this many are intended.",
          "job_too_large",
        );
      }
      validateRequest(request, position, limits, adapter.name);
      if (!seenIds.add(request.id)) {
        throw new ValidationError(
          `request "${request.id}" (#${position + 1}) repeats an id used earlier; request ids must be unique within a job.`,
          "duplicate_request_id",
        );
      }
      const line = adapter.encodeRequest(request, { endpoint: options.endpoint });
      const bytes = checkEncodedSize(line, request, position, limits);
      totalBytes += bytes;
      if (totalBytes > maxBytes) {
        throw new ValidationError(
          `The job's requests pass ${maxBytes} bytes encoded at request #${position + 1}, the most one job may ` +
            "hold (maxBytesPerJob). Split the requests into several jobs, or raise the limit.",
          "job_too_large",
        );
      }
      const tokens = estimatePromptTokens(request);
      const maxTokens = options.maxTokensPerBatch?.(request.model) ?? Number.POSITIVE_INFINITY;
      const key = limits.oneModelPerBatch ? request.model : "";
      let shard = open.get(key);
      if (
        shard &&
        (shard.nRequests >= limits.maxRequestsPerBatch ||
          shard.bytes + bytes > limits.maxBytesPerBatch ||
          shard.tokens + tokens > maxTokens)
      ) {
        await closeShard(key);
        shard = undefined;
      }
      if (!shard) {
        const index = shards.length;
        const lines = new LineWriter(join(directory, shardFile(index)));
        const ids = new LineWriter(join(directory, shardIdsFile(index)));
        writers.push(lines, ids);
        shard = {
          index,
          model: limits.oneModelPerBatch ? request.model : null,
          nRequests: 0,
          bytes: 0,
          tokens: 0,
          lines,
          ids,
        };
        shards.push(shard);
        open.set(key, shard);
      }
      digest.update(`${shard.index}\t${line}\n`);
      await shard.lines.write(line);
      await shard.ids.write(request.id);
      await order.write(String(shard.index));
      shard.nRequests += 1;
      shard.bytes += bytes;
      shard.tokens += tokens;
      position += 1;
    }
    for (const key of [...open.keys()]) await closeShard(key);
    await order.close();
  } catch (error) {
    for (const writer of writers) writer.destroy();
    throw error;
  }
  if (position === 0)
    throw new ValidationError("The request list is empty; give at least one request.", "empty_batch");
  return {
    shards: shards.map(({ index, model, nRequests, bytes, tokens }) => ({
      index,
      model,
      nRequests,
      bytes,
      tokens,
    })),
    nRequests: position,
    digest: digest.digest("hex"),
  };
}
