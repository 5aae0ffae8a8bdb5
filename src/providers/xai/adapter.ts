import type { IncomingHttpHeaders } from "node:http";
import { ProviderError } from "../../errors.js";
import type { BatchRequest } from "../../types.js";
import { classifyCreateError, toProviderError } from "../shared/errors.js";
import { asArray, asObject, asString, type JsonObject } from "../shared/json.js";
import { pages, pickListed } from "../shared/paging.js";
import { isRateLimited, RestClient } from "../shared/rest-client.js";
import {
  type AddRequestsInput,
  AmbiguousCreateError,
  type BatchLookup,
  type CreateBatchInput,
  type EncodeOptions,
  type ParsedResult,
  type ProviderAdapter,
  type ProviderBatch,
  type ProviderLimits,
  type ResolvedProviderConfig,
} from "../types.js";
import { addCallBody, addCallBytes, heldAfter, planAddCalls } from "./add.js";
import { batchName, createdAtOf, toProviderBatch } from "./batch.js";
import { parseXaiRecord } from "./decode.js";
import { checkXaiEndpoint, encodeXaiLine, RESPONSES } from "./encode.js";
import { xaiEntry } from "./entry.js";
import { MAX_ADD_CALL_BYTES } from "./limits.js";
import { normaliseXaiStatus } from "./status.js";

/**
 * The API's default page size, for batches, request metadata and results. A page is read whole, so results are not
 * read in larger pages: a hundred long completions already make megabytes.
 */
const PAGE_SIZE = 100;
/** How often the request list is read again when it holds fewer requests than the batch counts. */
const LISTING_ATTEMPTS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The provider's clock, from an answer's `date` header; the local clock when there is none. */
function serverNow(headers: IncomingHttpHeaders): number {
  const date = Date.parse(headers.date ?? "");
  return Number.isNaN(date) ? Date.now() : date;
}

/**
 * xAI's native Batch API over Relay's own HTTP client (the official TypeScript SDK needs Node 22). A batch is created
 * empty under a name that carries the shard's tags, then filled by add calls streamed from the shard file; results
 * are read page by page.
 */
export class XaiAdapter implements ProviderAdapter {
  readonly name = "xai" as const;
  readonly limits: ProviderLimits = xaiEntry.limits;
  readonly defaultEndpoint: string;
  private readonly rest: RestClient;
  private readonly maxAddCallBytes: number;
  /** When the last page of a listing was answered, by the provider's clock. */
  private listedAt = Date.now();

  constructor(config: ResolvedProviderConfig) {
    this.defaultEndpoint = checkXaiEndpoint(config.endpoint ?? RESPONSES);
    this.rest = new RestClient({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? xaiEntry.defaultBaseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      provider: this.name,
      ...(config.onRetry ? { onRetry: config.onRetry } : {}),
    });
    const wanted = config.maxBytesPerAddCall;
    this.maxAddCallBytes =
      wanted !== undefined && Number.isInteger(wanted) && wanted > 0
        ? Math.min(wanted, MAX_ADD_CALL_BYTES)
        : MAX_ADD_CALL_BYTES;
  }

  checkEndpoint(endpoint: string | null): string {
    return checkXaiEndpoint(endpoint ?? this.defaultEndpoint);
  }

  encodeRequest(request: BatchRequest, options: EncodeOptions): string {
    return encodeXaiLine(request, options.endpoint ?? this.defaultEndpoint);
  }

  normaliseStatus(status: string) {
    return normaliseXaiStatus(status);
  }

  parseRecord(raw: unknown): ParsedResult | null {
    return parseXaiRecord(raw);
  }

  /** Requests go in add calls after creation: there is nothing to upload. */
  async uploadShard(): Promise<null> {
    return null;
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    let answer: { body: unknown; headers: IncomingHttpHeaders };
    try {
      // Sent once: a lost answer is reported as ambiguous and resolved by findBatch, never by sending it again.
      answer = await this.rest.exchange("POST", "/batches", {
        json: { name: batchName(input.tags) },
        retry: false,
      });
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
    try {
      return this.describe(answer, "creating the batch");
    } catch (error) {
      // Answered with success but no batch: one may exist all the same.
      throw new AmbiguousCreateError(`${this.name}: ${(error as Error).message}`);
    }
  }

  /**
   * Fills the batch: the shard's lines from `input.added` on, in add calls of at most 25 MB, each recorded through
   * `onAdded` once it succeeded. When the count may be behind, the batch's request list says which are there, and
   * only the others are sent. A call is sent once (a 429 turned it away and is retried); a lost answer is reported
   * as ambiguous, to be resolved the same way on the next attempt.
   */
  async addRequests(input: AddRequestsInput): Promise<ProviderBatch> {
    const present = input.uncertain ? await this.requestIdsIn(input.batchId) : null;
    const plan = await planAddCalls(input.shardPath, {
      from: input.added,
      present,
      maxBodyBytes: this.maxAddCallBytes,
    });
    if (heldAfter(plan, -1) > input.added) await input.onAdded(heldAfter(plan, -1));
    const url = this.rest.url(`/batches/${encodeURIComponent(input.batchId)}/requests`);
    for (const [index, call] of plan.calls.entries()) {
      try {
        await this.rest.withRetries(async () => {
          const response = await this.rest.request("POST", url, {
            headers: {
              "content-type": "application/json",
              "content-length": addCallBytes(call),
              accept: "application/json",
            },
            body: addCallBody(input.shardPath, call),
          });
          response.resume();
        }, isRateLimited);
      } catch (error) {
        throw classifyCreateError(this.name, error, `adding requests to batch ${input.batchId}`);
      }
      await input.onAdded(heldAfter(plan, index));
    }
    return this.getBatch(input.batchId);
  }

  /**
   * Every batch_request_id the batch holds, from its request list. Read after the batch's own count, which it
   * must then reach: a list that lags behind is read again rather than trusted.
   */
  private async requestIdsIn(batchId: string): Promise<Set<string>> {
    const expected = (await this.getBatch(batchId)).total;
    const path = `/batches/${encodeURIComponent(batchId)}/requests`;
    for (let attempt = 1; ; attempt += 1) {
      const ids = new Set<string>();
      const listing = this.paged(
        path,
        "batch_request_metadata",
        PAGE_SIZE,
        `listing the requests of ${batchId}`,
      );
      for await (const item of listing) {
        const id = asString(asObject(item)?.batch_request_id);
        if (id !== undefined) ids.add(id);
      }
      if (ids.size >= expected) return ids;
      if (attempt >= LISTING_ATTEMPTS) {
        throw new ProviderError(
          this.name,
          `batch ${batchId} counts ${expected} requests but lists ${ids.size}; adding more now could send some twice. ` +
            "Try again later.",
          { code: "provider_error" },
        );
      }
      await sleep(1000 * attempt);
    }
  }

  /**
   * The batch a lost create answer made: the one named with this shard's tags (job, shard, submission and attempt),
   * which no earlier attempt of the shard created. The whole list is read, since xAI documents no order; when two
   * batches carry the name (a create sent twice), the earlier is taken: both hold no requests yet, so the other
   * costs nothing.
   */
  async findBatch(lookup: BatchLookup): Promise<ProviderBatch | null> {
    const name = batchName(lookup.tags);
    const earlier = new Set(lookup.previousBatchIds);
    let best: JsonObject | null = null;
    for await (const item of this.paged("/batches", "batches", PAGE_SIZE, "listing batches")) {
      const batch = asObject(item);
      const id = asString(batch?.batch_id);
      if (!batch || batch.name !== name || id === undefined || earlier.has(id)) continue;
      if (!best || createdAtOf(batch) < createdAtOf(best)) best = batch;
    }
    return best ? toProviderBatch(best, this.listedAt) : null;
  }

  getBatches(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>> {
    return pickListed(this.paged("/batches", "batches", PAGE_SIZE, "listing batches"), {
      wanted: batchIds,
      since,
      pageSize: PAGE_SIZE,
      idOf: (item) => asString(asObject(item)?.batch_id),
      createdAtOf,
      convert: (item) => toProviderBatch(asObject(item) ?? {}, this.listedAt),
    });
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    let answer: { body: unknown; headers: IncomingHttpHeaders };
    try {
      answer = await this.rest.exchange("GET", `/batches/${encodeURIComponent(batchId)}`, { retry: true });
    } catch (error) {
      throw toProviderError(this.name, `reading batch ${batchId}`, error);
    }
    return this.describe(answer, `reading batch ${batchId}`);
  }

  /** `POST /batches/{id}:cancel`; the ID is encoded before the suffix, as the official SDK does. */
  async cancelBatch(batchId: string): Promise<ProviderBatch> {
    let answer: { body: unknown; headers: IncomingHttpHeaders };
    try {
      answer = await this.rest.exchange("POST", `/batches/${encodeURIComponent(batchId)}:cancel`, {
        retry: true,
      });
    } catch (error) {
      throw toProviderError(this.name, `cancelling batch ${batchId}`, error);
    }
    return this.describe(answer, `cancelling batch ${batchId}`);
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    const path = `/batches/${encodeURIComponent(batch.id)}/results`;
    const records = this.paged(path, "results", PAGE_SIZE, `reading the results of ${batch.id}`);
    for await (const record of records) {
      const parsed = parseXaiRecord(record);
      if (parsed) yield parsed;
    }
  }

  /**
   * The items of a list endpoint, page by page (`limit`, `pagination_token`). Only an empty or null token ends it,
   * as in the official SDK: a page may come back empty with more to follow.
   */
  private paged(path: string, key: string, limit: number, action: string): AsyncGenerator<unknown> {
    return pages(
      async (cursor) => {
        const query = new URLSearchParams({ limit: String(limit) });
        if (cursor !== null) query.set("pagination_token", cursor);
        let answer: { body: unknown; headers: IncomingHttpHeaders };
        try {
          answer = await this.rest.exchange("GET", `${path}?${query}`, { retry: true });
        } catch (error) {
          throw toProviderError(this.name, action, error);
        }
        this.listedAt = serverNow(answer.headers);
        const page = asObject(answer.body);
        if (!page || !Array.isArray(page[key])) {
          throw new ProviderError(this.name, `${action} failed: the answer holds no "${key}" list`, {
            code: "provider_error",
          });
        }
        return { items: asArray(page[key]), next: asString(page.pagination_token) || null };
      },
      { throughEmptyPages: true },
    );
  }

  private describe(answer: { body: unknown; headers: IncomingHttpHeaders }, action: string): ProviderBatch {
    const batch = asObject(answer.body);
    if (!batch || typeof batch.batch_id !== "string" || batch.batch_id === "") {
      throw new ProviderError(this.name, `${action} failed: the answer holds no batch`, {
        code: "provider_error",
      });
    }
    return toProviderBatch(batch, serverNow(answer.headers));
  }
}
