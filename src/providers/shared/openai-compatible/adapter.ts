import { ValidationError } from "../../../errors.js";
import type { BatchRequest, EmbeddingRequest, JobStatus } from "../../../types.js";
import type { ProviderEntry } from "../../entry.js";
import {
  AmbiguousCreateError,
  type BatchFiles,
  type BatchLookup,
  type CreateBatchInput,
  type EncodeOptions,
  type ParsedResult,
  type ProviderAdapter,
  type ProviderBatch,
  type ProviderLimits,
  type ResolvedProviderConfig,
} from "../../types.js";
import { cancelUnlessEnded } from "../cancel.js";
import { deleteFilesOf } from "../delete.js";
import { classifyCreateError, toProviderError } from "../errors.js";
import { asArray, asObject, asString, type JsonObject } from "../json.js";
import { customIdOf, resumableRecords } from "../lines.js";
import { parseOpenAIShapedLine } from "../openai-shape.js";
import { CLOCK_SLACK_MS, type Page, pages, pickListed } from "../paging.js";
import { RestClient } from "../rest-client.js";
import { matchesTags, metadataFor } from "../tags.js";
import { uploadMultipartFile } from "../upload.js";
import { timestampMs, toProviderBatch } from "./batch.js";
import { EMBEDDINGS, encodeOpenAILine, type LineDialects } from "./encode.js";
import { normaliseOpenAIStatus } from "./status.js";

/** What one provider's dialect of the OpenAI Files and Batches protocol sets; everything else is shared. */
export interface OpenAICompatibleDialect {
  /** The base URL that `/files` and `/batches` follow. */
  apiBaseURL: string;
  /** Headers that authenticate a request; `Authorization: Bearer <key>` unless given. */
  authHeaders?: Record<string, string>;
  /** Query parameters every request carries. */
  query?: Record<string, string>;
  /** The batch endpoints the provider accepts in Relay; the first is the default. */
  endpoints: readonly [string, ...string[]];
  /** The `completion_window` sent on every batch. */
  completionWindow: string;
  /**
   * How the batch list pages: `cursor` (`limit` and `after`, answered with `has_more`), or `single` (one answer
   * holds every batch).
   */
  listing: "cursor" | "single";
  /** Extra multipart fields of an upload (e.g. a file expiry). */
  uploadFields?: Record<string, string>;
  /** Extra fields of the batch creation body (e.g. an output file expiry). */
  createFields?: Record<string, unknown>;
  /** How request bodies are written (the provider's differences from OpenAI's chat and Responses shapes). */
  lines: LineDialects;
  /** Encodes a text to embed as an `/v1/embeddings` line, where the provider batches embeddings. */
  encodeEmbedding?: (request: EmbeddingRequest) => string;
}

const LIST_PAGE_SIZE = 100;

/**
 * A provider that speaks OpenAI's Files and Batches protocol (OpenAI, Groq, Azure OpenAI), over Relay's own HTTP
 * client: uploads stream from disk, result files stream back, batch creation is sent once and tagged with metadata
 * so that a lost answer can be resolved by looking the batch up.
 */
export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly name: string;
  readonly limits: ProviderLimits;
  readonly defaultEndpoint: string;
  readonly embeddingsEndpoint?: string;
  readonly encodeEmbedding?: (request: EmbeddingRequest) => string;
  private readonly displayName: string;
  private readonly rest: RestClient;

  constructor(
    entry: ProviderEntry,
    config: ResolvedProviderConfig,
    private readonly dialect: OpenAICompatibleDialect,
  ) {
    this.name = entry.name;
    this.displayName = entry.displayName;
    this.limits = entry.limits;
    this.rest = new RestClient({
      apiKey: config.apiKey,
      baseURL: dialect.apiBaseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      ...(dialect.authHeaders ? { authHeaders: dialect.authHeaders } : {}),
      ...(dialect.query ? { query: dialect.query } : {}),
      provider: this.name,
      ...(config.onRetry ? { onRetry: config.onRetry } : {}),
    });
    this.defaultEndpoint = this.checkEndpoint(config.endpoint ?? dialect.endpoints[0]);
    if (dialect.encodeEmbedding) {
      this.embeddingsEndpoint = EMBEDDINGS;
      this.encodeEmbedding = dialect.encodeEmbedding;
    }
  }

  checkEndpoint(endpoint: string | null): string {
    const { displayName } = this;
    const { endpoints } = this.dialect;
    const chosen = endpoint ?? endpoints[0];
    if (!endpoints.includes(chosen)) {
      throw new ValidationError(
        `${displayName} batches in Relay support the endpoint${endpoints.length > 1 ? "s" : ""} ` +
          `${endpoints.join(" and ")}, not "${chosen}".`,
        "unsupported_endpoint",
      );
    }
    return chosen;
  }

  encodeRequest(request: BatchRequest, options: EncodeOptions): string {
    return encodeOpenAILine(request, options.endpoint ?? this.defaultEndpoint, this.dialect.lines);
  }

  normaliseStatus(status: string): JobStatus {
    return normaliseOpenAIStatus(status);
  }

  parseRecord(raw: unknown): ParsedResult | null {
    return parseOpenAIShapedLine(raw);
  }

  /**
   * Streams the shard from disk as a multipart upload (Node 20's fetch, and the SDKs on it, would hold the whole
   * body in memory). A retried upload at worst leaves an unused file at the provider, never a second batch.
   */
  async uploadShard(shardPath: string): Promise<string> {
    try {
      return await uploadMultipartFile(this.rest, {
        route: "/files",
        filePath: shardPath,
        fields: { purpose: "batch", ...this.dialect.uploadFields },
        contentType: "application/jsonl",
      });
    } catch (error) {
      throw toProviderError(this.name, "uploading the request file", error);
    }
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    if (!input.inputFileId) throw new Error(`${this.displayName} batches need an uploaded input file`);
    let answer: unknown;
    try {
      // Sent once: a lost answer is reported as ambiguous and resolved by findBatch, never by sending it again.
      answer = await this.rest.call("POST", "/batches", {
        json: {
          input_file_id: input.inputFileId,
          endpoint: input.endpoint ?? this.defaultEndpoint,
          completion_window: this.dialect.completionWindow,
          metadata: metadataFor(input.tags),
          ...this.dialect.createFields,
        },
        retry: false,
      });
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
    const batch = asObject(answer);
    if (!batch || typeof batch.id !== "string") {
      throw new AmbiguousCreateError(`${this.name}: the batch creation answer holds no batch`);
    }
    return toProviderBatch(batch);
  }

  /**
   * The batch whose metadata carries the shard's tags, among those created since the create call (with slack for
   * clock skew). The listing is cut short only once it is seen to run newest first: a provider that lists oldest
   * first is read to the end rather than trusted to be in OpenAI's order.
   */
  async findBatch({ tags, since }: BatchLookup): Promise<ProviderBatch | null> {
    let previous: number | undefined;
    let newestFirst = false;
    for await (const batch of this.listing("listing batches")) {
      if (matchesTags(batch.metadata, tags)) return toProviderBatch(batch);
      const createdAt = timestampMs(batch.created_at);
      if (previous !== undefined) newestFirst = createdAt <= previous;
      previous = createdAt;
      if (newestFirst && createdAt < since - CLOCK_SLACK_MS) return null;
    }
    return null;
  }

  getBatches(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>> {
    return pickListed(this.listing("listing batches"), {
      wanted: batchIds,
      since,
      pageSize: LIST_PAGE_SIZE,
      idOf: (batch) => asString(batch.id),
      createdAtOf: (batch) => timestampMs(batch.created_at),
      convert: toProviderBatch,
    });
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    return this.batchCall("GET", `/batches/${encodeURIComponent(batchId)}`, `reading batch ${batchId}`);
  }

  /** A batch that ended between the last status check and the cancel refuses it (409): reported as it is. */
  async cancelBatch(batchId: string): Promise<ProviderBatch> {
    const path = `/batches/${encodeURIComponent(batchId)}/cancel`;
    return cancelUnlessEnded(
      () => this.batchCall("POST", path, `cancelling batch ${batchId}`),
      () => this.getBatch(batchId),
    );
  }

  deleteBatchFiles(files: BatchFiles): Promise<string[]> {
    return deleteFilesOf(this.rest, this.name, files);
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    for (const fileId of [batch.outputFileId, batch.errorFileId]) {
      if (!fileId) continue;
      const records = resumableRecords(
        async () => {
          try {
            return await this.rest.openContent(fileId);
          } catch (error) {
            throw toProviderError(this.name, `downloading file ${fileId}`, error);
          }
        },
        {
          parse: (line) => ({ record: JSON.parse(line) as unknown, text: line }),
          idOf: (line) => customIdOf(line.record),
        },
      );
      for await (const line of records) {
        const parsed = this.parseRecord(line.record);
        if (!parsed) continue;
        // The line is the raw record only when parsing kept it as it came (a vector is taken out of it, say).
        if (parsed.result.raw === line.record) parsed.rawText = line.text;
        yield parsed;
      }
    }
  }

  /** A call answered with a batch object; repeated on 429/5xx and lost connections. */
  private async batchCall(method: string, path: string, action: string): Promise<ProviderBatch> {
    let batch: JsonObject | undefined;
    try {
      batch = asObject(await this.rest.call(method, path, { retry: true }));
    } catch (error) {
      throw toProviderError(this.name, action, error);
    }
    if (!batch || typeof batch.id !== "string") {
      throw toProviderError(this.name, action, new Error("the answer is not a batch"));
    }
    return toProviderBatch(batch);
  }

  /** The account's batches in the provider's order, a page at a time. */
  private async *listing(action: string): AsyncGenerator<JsonObject> {
    try {
      yield* pages((cursor) => this.listPage(cursor));
    } catch (error) {
      throw toProviderError(this.name, action, error);
    }
  }

  private async listPage(cursor: string | null): Promise<Page<JsonObject>> {
    const cursorPaged = this.dialect.listing === "cursor";
    const query: Record<string, string> = cursorPaged ? { limit: String(LIST_PAGE_SIZE) } : {};
    if (cursorPaged && cursor) query.after = cursor;
    const answer = asObject(await this.rest.call("GET", "/batches", { query, retry: true }));
    const items = asArray(answer?.data)
      .map(asObject)
      .filter((item): item is JsonObject => item !== undefined);
    const last = asString(answer?.last_id) || asString(items.at(-1)?.id);
    const next = cursorPaged && answer?.has_more === true && last ? last : null;
    return { items, next };
  }
}
