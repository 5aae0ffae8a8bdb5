import { access } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { ProviderError, ValidationError } from "../../errors.js";
import type { BatchRequest, EmbeddingRequest } from "../../types.js";
import { cancelUnlessEnded } from "../shared/cancel.js";
import { classifyCreateError, toProviderError } from "../shared/errors.js";
import { HttpConnectionError, HttpStatusError } from "../shared/http.js";
import { asArray, asObject, asString, type JsonObject } from "../shared/json.js";
import { readJsonWithout, streamJsonArrays } from "../shared/json-stream.js";
import { resumableRecords } from "../shared/lines.js";
import { CLOCK_SLACK_MS, type Page, pages, pickListed } from "../shared/paging.js";
import { RestClient } from "../shared/rest-client.js";
import {
  AmbiguousCreateError,
  type BatchFiles,
  type BatchLookup,
  type CreateBatchInput,
  type ParsedResult,
  type ProviderAdapter,
  type ProviderBatch,
  type ProviderLimits,
  type ResolvedProviderConfig,
  type ShardTags,
} from "../types.js";
import { BULKY_ARRAYS, hasEnded, INLINED_RESPONSES, responsesFileOf, toProviderBatch } from "./batch.js";
import { parseGeminiRecord } from "./decode.js";
import { encodeGeminiEmbeddingLine, encodeGeminiLine, modelResource } from "./encode.js";
import { geminiEntry } from "./entry.js";
import { firstRequestOf, fitsInline, inlineCreateBody } from "./inline.js";
import { normaliseGeminiState } from "./status.js";
import { displayNameFor, isNamedFor } from "./tags.js";
import { uploadJsonlFile } from "./upload.js";

const API_VERSION = "/v1beta";
const PAGE_SIZE = 100;
/** Attempts at reading a batch's inlined responses when the answer is cut midway. */
const READ_ATTEMPTS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A resource name (`batches/x`, `files/x`, `models/x`) as a URL path, each segment escaped. */
function resourcePath(name: string): string {
  return `${API_VERSION}/${name.split("/").map(encodeURIComponent).join("/")}`;
}

function batchName(id: string): string {
  return id.startsWith("batches/") ? id : `batches/${id}`;
}

function createTimeOf(operation: JsonObject): number {
  return Date.parse(asString(asObject(operation.metadata)?.createTime) ?? "");
}

/** Reads a whole Operation, skipping any inlined requests and responses; a body cut midway is a lost connection. */
async function readOperation(response: IncomingMessage): Promise<JsonObject> {
  let operation: unknown;
  try {
    operation = await readJsonWithout(response as AsyncIterable<Buffer>, BULKY_ARRAYS);
  } catch (error) {
    response.destroy();
    throw new HttpConnectionError(`reading the batch failed: ${(error as Error).message}`, { cause: error });
  }
  const object = asObject(operation);
  if (!object) throw new Error("the answer is not a batch operation");
  return object;
}

/**
 * The Gemini API's batch mode (Developer API, v1beta) over Relay's own HTTP client. @google/genai is not used at
 * run time: it exposes neither a batch's request counts nor its error, and would hold request bodies in memory.
 */
export class GeminiAdapter implements ProviderAdapter {
  readonly name = "gemini" as const;
  readonly limits: ProviderLimits = geminiEntry.limits;
  readonly defaultEndpoint = null;
  private readonly rest: RestClient;
  private readonly baseURL: string;

  constructor(config: ResolvedProviderConfig) {
    this.checkEndpoint(config.endpoint ?? null);
    this.baseURL = config.baseURL ?? geminiEntry.defaultBaseURL;
    this.rest = new RestClient({
      apiKey: config.apiKey,
      baseURL: this.baseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      authHeaders: { "x-goog-api-key": config.apiKey },
      provider: this.name,
      ...(config.onRetry ? { onRetry: config.onRetry } : {}),
    });
  }

  checkEndpoint(endpoint: string | null): null {
    if (endpoint === null) return null;
    throw new ValidationError(
      `Gemini batches always run generateContent; the endpoint "${endpoint}" cannot be chosen. Leave it unset.`,
      "unsupported_endpoint",
    );
  }

  encodeRequest(request: BatchRequest): string {
    return encodeGeminiLine(request);
  }

  encodeEmbedding(request: EmbeddingRequest): string {
    return encodeGeminiEmbeddingLine(request);
  }

  normaliseStatus(state: string) {
    return normaliseGeminiState(state);
  }

  parseRecord(raw: unknown): ParsedResult | null {
    return parseGeminiRecord(raw);
  }

  /**
   * Small shards go inline with the create call (null); larger ones are uploaded as a JSONL file. Embeddings are
   * always uploaded: their responses then come as a file, streamed, rather than inside the batch's Operation,
   * which would carry every vector (twice) each time the batch is read.
   */
  async uploadShard(shardPath: string, tags: ShardTags): Promise<string | null> {
    try {
      const embeddings = "content" in (await firstRequestOf(shardPath));
      if (!embeddings && (await fitsInline(shardPath))) return null;
      return await uploadJsonlFile(this.rest, this.baseURL, shardPath, displayNameFor(tags));
    } catch (error) {
      throw toProviderError(this.name, "uploading the request file", error);
    }
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    // A missing or unreadable shard must fail plainly here, not midway through a streamed body.
    await access(input.shardPath);
    const model = input.model ?? asString((await firstRequestOf(input.shardPath)).model);
    if (!model) throw new Error(`the shard file ${input.shardPath} names no model`);
    const displayName = displayNameFor(input.tags);
    const body = input.inputFileId
      ? JSON.stringify({ batch: { displayName, inputConfig: { fileName: input.inputFileId } } })
      : () => Readable.from(inlineCreateBody(input.shardPath, displayName));
    const method = input.kind === "embeddings" ? "asyncBatchEmbedContent" : "batchGenerateContent";
    let operation: JsonObject;
    try {
      // Sent once: creation is not idempotent. A lost answer is resolved by findBatch, never by sending it again.
      const response = await this.rest.request(
        "POST",
        this.rest.url(`${resourcePath(modelResource(model))}:${method}`),
        {
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            ...(typeof body === "string" ? { "content-length": Buffer.byteLength(body) } : {}),
          },
          body,
        },
      );
      // Read like any batch, without holding inlined responses (a batch may have ended before it is answered).
      operation = await readOperation(response);
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
    if (typeof operation.name !== "string") {
      throw new AmbiguousCreateError(`${this.name}: the batch creation answer holds no batch`);
    }
    return toProviderBatch(operation);
  }

  /**
   * Gemini batches carry no metadata, so each is created with a display name that says which submission, shard
   * and attempt it belongs to (see tags.ts). The listing, newest first, is searched for that name down to the
   * batches created before the create call (with slack for clock skew); batches of earlier attempts are skipped.
   * Exact, as long as nothing else names batches Relay's way.
   */
  async findBatch(lookup: BatchLookup): Promise<ProviderBatch | null> {
    const earlier = new Set(lookup.previousBatchIds);
    try {
      for await (const operation of this.listing()) {
        const name = asString(operation.name) ?? "";
        const metadata = asObject(operation.metadata);
        if (!earlier.has(name) && isNamedFor(metadata?.displayName, lookup.tags)) {
          return toProviderBatch(operation);
        }
        if (createTimeOf(operation) < lookup.since - CLOCK_SLACK_MS) return null;
      }
      return null;
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
  }

  async getBatches(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>> {
    try {
      return await pickListed(this.listing(), {
        wanted: batchIds.map(batchName),
        since,
        pageSize: PAGE_SIZE,
        idOf: (operation) => asString(operation.name),
        createdAtOf: createTimeOf,
        convert: toProviderBatch,
      });
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
  }

  /** The project's batches, newest first. The list leaves inlined responses out. */
  private listing(): AsyncGenerator<JsonObject> {
    return pages(async (cursor): Promise<Page<JsonObject>> => {
      const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
      if (cursor) query.set("pageToken", cursor);
      const page = asObject(await this.rest.call("GET", `${API_VERSION}/batches?${query}`, { retry: true }));
      const items = asArray(page?.operations)
        .map(asObject)
        .filter((item): item is JsonObject => item !== undefined);
      return { items, next: asString(page?.nextPageToken) || null };
    });
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    const name = batchName(batchId);
    let operation: JsonObject;
    try {
      operation = await this.rest.withRetries(async () =>
        readOperation(await this.rest.request("GET", this.rest.url(resourcePath(name)))),
      );
    } catch (error) {
      throw toProviderError(this.name, `reading batch ${name}`, error);
    }
    if (operation.name !== name) {
      throw new ProviderError(
        this.name,
        `asked for batch ${name}, the answer was about ${String(operation.name)}; check the base URL`,
      );
    }
    return toProviderBatch(operation);
  }

  /**
   * Cancelling is asynchronous (a long-running operation's cancel): the batch keeps its running state until
   * Gemini has stopped it, so a batch still running right after an accepted cancel is reported as cancelling.
   */
  async cancelBatch(batchId: string): Promise<ProviderBatch> {
    const name = batchName(batchId);
    try {
      return await cancelUnlessEnded(
        async () => {
          await this.rest.call("POST", `${resourcePath(name)}:cancel`, { json: {}, retry: true });
          const batch = await this.getBatch(name);
          return hasEnded(batch) ? batch : { ...batch, status: "cancelling" };
        },
        () => this.getBatch(name),
      );
    } catch (error) {
      throw toProviderError(this.name, `cancelling batch ${name}`, error);
    }
  }

  /**
   * Once the results are stored: the uploaded input file, the responses file, and the batch itself (which holds
   * inlined responses). Gone already counts as deleted; Gemini answers 403 for a file that does not exist.
   */
  async deleteBatchFiles(files: BatchFiles): Promise<string[]> {
    const deleted: string[] = [];
    const names = [files.inputFileId, files.outputFileId, files.batchId && batchName(files.batchId)];
    for (const name of names) {
      if (!name) continue;
      try {
        await this.rest.call("DELETE", resourcePath(name), { retry: true });
      } catch (error) {
        const gone =
          error instanceof HttpStatusError &&
          (error.status === 404 || (error.status === 403 && name.startsWith("files/")));
        if (!gone) throw toProviderError(this.name, `deleting ${name}`, error);
      }
      deleted.push(name);
    }
    return deleted;
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    if (batch.outputFileId) yield* this.fileResults(batch.outputFileId);
    else yield* this.inlinedResults(batchName(batch.id));
  }

  /** The lines of a responses file, downloaded as a stream (`/download/…:download?alt=media`, as documented). */
  private async *fileResults(fileName: string): AsyncGenerator<ParsedResult> {
    const url = this.rest.url(`/download${resourcePath(fileName)}:download`, { alt: "media" });
    const records = resumableRecords(
      async () => {
        try {
          return await this.rest.withRetries(() => this.rest.request("GET", url));
        } catch (error) {
          throw toProviderError(this.name, `downloading ${fileName}`, error);
        }
      },
      {
        parse: (line) => JSON.parse(line) as unknown,
        // Lines are joined on their key, Gemini's custom_id.
        idOf: (record) => {
          const key = (record as { key?: unknown } | null)?.key;
          return typeof key === "string" ? key : undefined;
        },
      },
    );
    for await (const record of records) {
      const parsed = parseGeminiRecord(record);
      if (parsed) yield parsed;
    }
  }

  /**
   * The inlined responses of a batch, streamed out of its Operation one by one (the Operation holds them twice,
   * in `metadata.output` and in `response`; the first copy is read). A read cut midway is started again, and
   * the keys already yielded are skipped. Should the Operation name a responses file instead, that is read.
   */
  private async *inlinedResults(name: string): AsyncGenerator<ParsedResult> {
    const yielded = new Set<string>();
    for (let attempt = 1; ; attempt += 1) {
      let operation: unknown;
      try {
        const response = await this.rest.withRetries(() =>
          this.rest.request("GET", this.rest.url(resourcePath(name))),
        );
        let copy = -1;
        const wanted = (path: number) => copy === -1 || path === copy;
        for await (const event of streamJsonArrays(
          response as AsyncIterable<Buffer>,
          INLINED_RESPONSES,
          wanted,
        )) {
          if (event.kind === "document") {
            operation = event.value;
            continue;
          }
          if (copy === -1) copy = event.path;
          const parsed = parseGeminiRecord(event.value);
          if (!parsed || yielded.has(parsed.customId)) continue;
          yielded.add(parsed.customId);
          yield parsed;
        }
      } catch (error) {
        if (error instanceof ProviderError || error instanceof HttpStatusError || attempt >= READ_ATTEMPTS) {
          throw toProviderError(this.name, `reading the results of batch ${name}`, error);
        }
        await sleep(200 * 2 ** (attempt - 1));
        continue;
      }
      const file = responsesFileOf(asObject(operation) ?? {});
      if (file) yield* this.fileResults(file);
      return;
    }
  }
}
