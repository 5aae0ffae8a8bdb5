import { access } from "node:fs/promises";
import { Readable } from "node:stream";
import Anthropic from "@anthropic-ai/sdk";
import type { MessageBatch } from "@anthropic-ai/sdk/resources/messages/batches";
import { ProviderError, ValidationError } from "../../errors.js";
import type { BatchRequest } from "../../types.js";
import { classifyCreateError, toProviderError } from "../shared/errors.js";
import { readText } from "../shared/http.js";
import { asObject, asString } from "../shared/json.js";
import { customIdOf, resumableRecords } from "../shared/lines.js";
import { pickListed } from "../shared/paging.js";
import { RestClient } from "../shared/rest-client.js";
import { sdkRetryLogging } from "../shared/retry-notice.js";
import type {
  BatchFiles,
  BatchLookup,
  CreateBatchInput,
  ParsedResult,
  ProviderAdapter,
  ProviderBatch,
  ProviderLimits,
  ResolvedProviderConfig,
  ShardTags,
} from "../types.js";
import { createBodyFromShard } from "./body.js";
import { encodeAnthropicLine } from "./encode.js";
import { anthropicEntry } from "./entry.js";
import { createdAtOf, creationWindow, pickCreatedBatch } from "./find.js";
import { parseAnthropicRecord } from "./parse.js";
import { anthropicBatchStatus, countsOf, normaliseAnthropicStatus } from "./status.js";

const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic's only batch endpoint; Relay records none. */
const MESSAGES_ENDPOINT = "/v1/messages";

export function toProviderBatch(batch: MessageBatch): ProviderBatch {
  const counts = countsOf(batch.request_counts);
  const createdAt = createdAtOf(batch);
  return {
    id: batch.id,
    status: anthropicBatchStatus(batch),
    providerStatus: batch.processing_status,
    total: counts.total,
    completed: counts.succeeded,
    failed: counts.errored,
    inputFileId: null,
    outputFileId: null,
    errorFileId: null,
    error: null,
    progress: null,
    createdAt: Number.isNaN(createdAt) ? null : createdAt,
    // Results are kept for 29 days after the batch was created.
    resultsExpireAt: Number.isNaN(createdAt) ? null : createdAt + 29 * 24 * 3600_000,
    raw: batch,
  };
}

const claimKey = (tags: ShardTags) => `${tags.submissionId}/${tags.shardIndex}/${tags.attempt}`;

/** Anthropic's Message Batches API through the official SDK. Requests go inline: there is no upload. */
export class AnthropicAdapter implements ProviderAdapter {
  readonly name = "anthropic" as const;
  readonly limits: ProviderLimits = anthropicEntry.limits;
  readonly defaultEndpoint = null;
  private readonly client: Anthropic;
  /** For batch creation only: a streamed body, never retried. */
  private readonly rest: RestClient;
  private readonly timeoutMs: number;
  /** Batches this adapter created or adopted, and for which shard: recovery never hands one to two shards. */
  private readonly claimed = new Map<string, string>();

  constructor(config: ResolvedProviderConfig) {
    this.checkEndpoint(config.endpoint ?? null);
    this.timeoutMs = config.timeoutMs;
    // An explicit key and base URL keep the SDK from reading credentials or a host from profile files.
    this.client = new Anthropic({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? anthropicEntry.defaultBaseURL,
      maxRetries: config.maxRetries,
      timeout: config.timeoutMs,
      ...sdkRetryLogging(this.name, config.onRetry),
    });
    this.rest = new RestClient({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? anthropicEntry.defaultBaseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: 0,
      authHeaders: { "x-api-key": config.apiKey, "anthropic-version": ANTHROPIC_VERSION },
    });
  }

  checkEndpoint(endpoint: string | null): string | null {
    if (endpoint === null || endpoint === MESSAGES_ENDPOINT) return null;
    throw new ValidationError(
      `Anthropic batches always run the Messages API; the endpoint "${endpoint}" cannot be chosen. Leave it unset.`,
      "unsupported_endpoint",
    );
  }

  encodeRequest(request: BatchRequest): string {
    return encodeAnthropicLine(request);
  }

  normaliseStatus(status: string) {
    return normaliseAnthropicStatus(status);
  }

  async uploadShard(): Promise<null> {
    return null;
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    // A missing shard must fail plainly here, not midway through a streamed body where it would look ambiguous.
    await access(input.shardPath);
    try {
      // messages.batches.create() would need the requests as objects, and the SDK's fetch would hold the whole
      // body (up to 250 MB) in memory while sending it; over node:http it streams from the shard file instead.
      const response = await this.rest.request("POST", this.rest.url("/v1/messages/batches"), {
        headers: { "content-type": "application/json", accept: "application/json" },
        body: () => Readable.from(createBodyFromShard(input.shardPath)),
      });
      const batch = JSON.parse(await readText(response)) as MessageBatch;
      this.claimed.set(batch.id, claimKey(input.tags));
      return toProviderBatch(batch);
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
  }

  /**
   * Anthropic batches carry no metadata, so a batch whose create answer was lost is recognised by what the list
   * shows: it was created between 10 minutes before `lookup.since` (clock skew) and 10 minutes after the create
   * call timed out, it holds exactly `lookup.nRequests` requests, it is none of `lookup.previousBatchIds`, and this
   * adapter has not already given it to another shard. When several qualify, the earliest is taken.
   *
   * What this cannot tell apart: batches of the same size created in that window by anything else using the same
   * API key's workspace (another Relay job or process, another tool), and, across processes, equal-size shards of
   * the same job whose creates were all lost (claims live in this process only). Nothing Relay sets at creation
   * (custom_ids, params, `metadata.user_id`) shows on the batch object; the SDK's per-batch headers
   * (`anthropic-workspace-id`, `anthropic-user-profile-id`) name existing resources and are not echoed either;
   * and results, which would show the custom_ids, exist only once the batch has ended. So no stronger check is
   * possible while the batch runs. It also needs the provider's clock within 10 minutes of the local one.
   */
  async findBatch(lookup: BatchLookup): Promise<ProviderBatch | null> {
    const window = creationWindow(lookup.since, this.timeoutMs);
    const key = claimKey(lookup.tags);
    const candidates: MessageBatch[] = [];
    try {
      for await (const batch of this.client.messages.batches.list({ limit: 1000 })) {
        if (createdAtOf(batch) < window.from) break;
        candidates.push(batch);
      }
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
    const taken = new Set([...this.claimed].filter(([, owner]) => owner !== key).map(([id]) => id));
    for (const id of lookup.previousBatchIds) taken.add(id);
    for (const id of await lookup.knownBatchIds()) taken.add(id);
    const found = pickCreatedBatch(candidates, { window, nRequests: lookup.nRequests, claimed: taken });
    if (!found) return null;
    this.claimed.set(found.id, key);
    return toProviderBatch(found);
  }

  async getBatches(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>> {
    try {
      return await pickListed(this.client.messages.batches.list({ limit: 1000 }), {
        wanted: batchIds,
        since,
        pageSize: 1000,
        idOf: (batch) => batch.id,
        createdAtOf,
        convert: toProviderBatch,
      });
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    try {
      return toProviderBatch(await this.client.messages.batches.retrieve(batchId));
    } catch (error) {
      throw toProviderError(this.name, `reading batch ${batchId}`, error);
    }
  }

  async cancelBatch(batchId: string): Promise<ProviderBatch> {
    try {
      return toProviderBatch(await this.client.messages.batches.cancel(batchId));
    } catch (error) {
      // A batch that ended between the last status check and the cancel refuses it: report it as it is.
      const status = (error as { status?: unknown }).status;
      if (status === 400 || status === 409) {
        const batch = await this.getBatch(batchId);
        if (batch.providerStatus === "ended") return batch;
      }
      throw toProviderError(this.name, `cancelling batch ${batchId}`, error);
    }
  }

  /** Anthropic keeps no files: the batch itself holds the results, and deleting it deletes them. */
  async deleteBatchFiles(files: BatchFiles): Promise<string[]> {
    if (!files.batchId) return [];
    try {
      await this.client.messages.batches.delete(files.batchId);
    } catch (error) {
      if ((error as { status?: unknown }).status !== 404)
        throw toProviderError(this.name, `deleting batch ${files.batchId}`, error);
    }
    return [files.batchId];
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    const url = resultsUrlOf(batch.raw) ?? resultsUrlOf((await this.getBatch(batch.id)).raw);
    if (!url) {
      throw new ProviderError(
        this.name,
        `batch ${batch.id} has no results (status ${batch.providerStatus}). Results exist once the batch has ` +
          "ended, and are kept for 29 days.",
        { code: "results_unavailable" },
      );
    }
    // Node's fetch cancels a body whose Response is garbage collected, so the Response is held while reading.
    let response: Response | undefined;
    const records = resumableRecords(
      async () => {
        try {
          response = await this.client.get(url, { headers: { Accept: "application/binary" } }).asResponse();
          return response.body;
        } catch (error) {
          throw toProviderError(this.name, `downloading the results of batch ${batch.id}`, error);
        }
      },
      { parse: (line) => JSON.parse(line) as unknown, idOf: customIdOf },
    );
    for await (const record of records) {
      const parsed = parseAnthropicRecord(record);
      if (parsed) yield parsed;
    }
  }

  parseRecord(raw: unknown): ParsedResult | null {
    return parseAnthropicRecord(raw);
  }
}

/** `results_url` is absolute (Anthropic's host, or the emulator's) and is used as given. */
function resultsUrlOf(raw: unknown): string | null {
  return asString(asObject(raw)?.results_url) ?? null;
}
