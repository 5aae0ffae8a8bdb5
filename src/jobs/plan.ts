import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TokenCounters } from "../cost/tokenizer.js";
import { APPROXIMATE_COUNTER } from "../cost/tokenizer.js";
import { ValidationError } from "../errors.js";
import { providerEntry } from "../providers/registry.js";
import type { ProviderAdapter, ProviderLimits } from "../providers/types.js";
import { assertSupported, featuresOf } from "../requests/features.js";
import { type ResolvedFormat, resolveResponseFormat } from "../requests/format.js";
import { validateEmbeddingRequest } from "../requests/validate.js";
import type { BatchRequest, EmbeddingRequest } from "../types.js";
import { LineWriter } from "../util/line-writer.js";
import { CompactStringSet } from "./id-set.js";
import { countPromptTokens } from "./tokens.js";
import { checkEncodedSize, describeRequest, validateRequest, validateRequestId } from "./validate.js";

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
/** The job's distinct structured-output formats (a JSON array), when any request has one. */
export const FORMATS_FILE = "formats.json";
/** One line per request of a shard, in shard order: the index of its format in FORMATS_FILE, or -1. */
export const shardFormatsFile = (index: number) => `shard-${String(index).padStart(4, "0")}.formats`;

interface OpenShard extends PlannedShard {
  lines: LineWriter;
  ids: LineWriter;
  /** Opened once the job has a request with a format. */
  formats: LineWriter | null;
}

/** A request as it goes into a shard file: already validated and encoded for the provider. */
export interface EncodedRequest {
  id: string;
  /** The model, where batches hold one model (it decides the shard), else for the token budget only. */
  model: string | null;
  line: string;
  /** Bytes of the line with its newline. */
  bytes: number;
  /** Estimated prompt tokens. */
  tokens: number;
  /** The request's maxTokens, when it set one. */
  maxOutputTokens?: number | undefined;
  /** The structured output the answer must satisfy, checked when the results are read. */
  format?: ResolvedFormat | undefined;
}

/** Validates each text to embed against Relay's and the provider's rules, and encodes it as a shard line. */
export async function* encodeEmbeddingRequests(
  requests: Iterable<EmbeddingRequest> | AsyncIterable<EmbeddingRequest>,
  options: { adapter: ProviderAdapter; limits: ProviderLimits; endpoint: string | null },
): AsyncGenerator<EncodedRequest> {
  const { adapter, limits } = options;
  const encode = adapter.encodeEmbedding?.bind(adapter);
  if (!encode || !providerEntry(adapter.name).features?.includes("embeddings")) {
    assertSupported(["embeddings"], new Set(), adapter.name, "This job");
    return;
  }
  let position = 0;
  for await (const request of requests) {
    const label = describeRequest(request, position);
    validateRequestId(request, label, limits, adapter.name);
    validateEmbeddingRequest(request, label);
    const line = encode(request, { endpoint: options.endpoint });
    const bytes = checkEncodedSize(line, request, position, limits);
    const tokens = APPROXIMATE_COUNTER.count(request.input);
    yield { id: request.id, model: request.model, line, bytes, tokens, maxOutputTokens: 0 };
    position += 1;
  }
}

/** Validates each request against Relay's and the provider's rules, and encodes it as a line of a shard file. */
export async function* encodeRequests(
  requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>,
  options: {
    adapter: ProviderAdapter;
    limits: ProviderLimits;
    endpoint: string | null;
    /** Count prompt tokens with each model's tokenizer (for an enqueued-token budget); else approximately. */
    counters?: TokenCounters | undefined;
  },
): AsyncGenerator<EncodedRequest> {
  const { adapter, limits, counters } = options;
  const supported = new Set(providerEntry(adapter.name).features ?? []);
  let position = 0;
  for await (const request of requests) {
    validateRequest(request, position, limits, adapter.name);
    assertSupported(featuresOf(request), supported, adapter.name, describeRequest(request, position));
    const line = adapter.encodeRequest(request, { endpoint: options.endpoint });
    const bytes = checkEncodedSize(line, request, position, limits);
    const tokens = counters
      ? countPromptTokens(request, await counters.get(request.model))
      : countPromptTokens(request);
    const format =
      request.responseFormat === undefined
        ? undefined
        : resolveResponseFormat(request.responseFormat, describeRequest(request, position));
    yield {
      id: request.id,
      model: request.model,
      line,
      bytes,
      tokens,
      maxOutputTokens: request.maxTokens,
      format,
    };
    position += 1;
  }
}

/**
 * Writes encoded requests into shard files that respect the provider's limits (requests and bytes per batch, one
 * model per batch where required, and an enqueued-token budget), rejecting duplicate IDs. Streams: memory does
 * not grow with the number of requests beyond the set of IDs used to reject duplicates.
 */
export async function planShards(options: {
  requests: AsyncIterable<EncodedRequest>;
  /** The adapter's limits, possibly lowered by the caller's configuration. */
  limits: ProviderLimits;
  /** Estimated prompt tokens a shard may hold at most (an enqueued-token budget), per model; none when absent. */
  maxTokensPerBatch?: (model: string | null) => number | undefined;
  directory: string;
}): Promise<{ shards: PlannedShard[]; nRequests: number; digest: string }> {
  const { directory, limits } = options;
  await mkdir(directory, { recursive: true });
  const order = new LineWriter(join(directory, ORDER_FILE));
  const shards: PlannedShard[] = [];
  const open = new Map<string, OpenShard>();
  const writers: LineWriter[] = [order];
  const seenIds = new CompactStringSet();
  const digest = createHash("sha256");
  // Formats by their JSON, so that a schema shared by every request is stored once.
  const formats = new Map<string, number>();
  let position = 0;

  const closeShard = async (key: string) => {
    const shard = open.get(key);
    if (!shard) return;
    open.delete(key);
    await Promise.all([shard.lines.close(), shard.ids.close(), shard.formats?.close()]);
  };
  /** A shard's formats file, opened with "-1" for the requests it already holds. */
  const openFormats = async (shard: OpenShard) => {
    const writer = new LineWriter(join(directory, shardFormatsFile(shard.index)));
    writers.push(writer);
    for (let held = 0; held < shard.nRequests; held += 1) await writer.write("-1");
    shard.formats = writer;
  };

  try {
    for await (const request of options.requests) {
      if (!seenIds.add(request.id)) {
        throw new ValidationError(
          `request "${request.id}" (#${position + 1}) repeats an id used earlier; request ids must be unique within a job.`,
          "duplicate_request_id",
        );
      }
      const { line, bytes, tokens } = request;
      const maxTokens = options.maxTokensPerBatch?.(request.model) ?? Number.POSITIVE_INFINITY;
      const key = limits.oneModelPerBatch ? (request.model ?? "") : "";
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
          formats: null,
        };
        shards.push(shard);
        open.set(key, shard);
      }
      if (request.format && formats.size === 0) {
        // The job's first format: every open shard keeps a formats file from now on (shards closed already hold
        // none, and a missing file means no format).
        formats.set(JSON.stringify(request.format), 0);
        for (const other of open.values()) if (!other.formats) await openFormats(other);
      }
      if (formats.size > 0 && !shard.formats) await openFormats(shard);
      if (shard.formats) {
        let formatIndex = -1;
        if (request.format) {
          const key = JSON.stringify(request.format);
          formatIndex = formats.get(key) ?? formats.size;
          formats.set(key, formatIndex);
        }
        await shard.formats.write(String(formatIndex));
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
    if (formats.size > 0) {
      const list = [...formats.keys()].map((key) => JSON.parse(key) as ResolvedFormat);
      await writeFile(join(directory, FORMATS_FILE), `${JSON.stringify(list)}\n`, { mode: 0o600 });
    }
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
