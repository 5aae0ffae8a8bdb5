import type { BatchRequest, EmbeddingRequest } from "../../types.js";
import { cancelUnlessEnded } from "../shared/cancel.js";
import { deleteFilesOf } from "../shared/delete.js";
import { checkOnlyEndpoint } from "../shared/endpoint.js";
import { classifyCreateError, toProviderError } from "../shared/errors.js";
import { asArray, asNumber, asObject, type JsonObject } from "../shared/json.js";
import { customIdOf, resumableRecords } from "../shared/lines.js";
import { CLOCK_SLACK_MS, type Page, pages, pickListed } from "../shared/paging.js";
import { RestClient } from "../shared/rest-client.js";
import { matchesTags, metadataFor } from "../shared/tags.js";
import { uploadMultipartFile } from "../shared/upload.js";
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
} from "../types.js";
import { createdAtOf, toProviderBatch } from "./batch.js";
import { parseMistralRecord } from "./decode.js";
import { CHAT_COMPLETIONS, EMBEDDINGS, encodeMistralEmbedding, encodeMistralLine } from "./encode.js";
import { mistralEntry } from "./entry.js";
import { normaliseMistralStatus } from "./status.js";

/** Mistral's default and Relay's: a job still running after this many hours ends as TIMEOUT_EXCEEDED. */
const TIMEOUT_HOURS = 24;
const PAGE_SIZE = 100;
/** A shard's upload: `POST /v1/files`, multipart, purpose `batch`. */
const UPLOAD = { route: "/files", fields: { purpose: "batch" }, contentType: "application/jsonl" };

/**
 * Mistral's Files and Batch Jobs APIs over Relay's own HTTP client. The official SDK (`@mistralai/mistralai`) is
 * not used at run time: it reads an upload stream whole into memory, and Node 20's fetch under it buffers request
 * bodies; here uploads stream from disk and result files are read as streams.
 *
 * Every shard goes up as a JSONL file, even a small one that could go inline in the create call (Mistral takes up
 * to 10,000 requests inline): one path for every shard size, sized by the documented file limits (an inline
 * body's size limit is not documented); an upload can be retried safely where a create call cannot, so the one
 * call that must never be repeated blindly stays small; and a job's status answers never carry inline outputs.
 */
export class MistralAdapter implements ProviderAdapter {
  readonly name = "mistral" as const;
  readonly limits: ProviderLimits = mistralEntry.limits;
  readonly defaultEndpoint = CHAT_COMPLETIONS;
  private readonly client: RestClient;

  constructor(config: ResolvedProviderConfig) {
    // The base URL is the host root (the SDK's serverURL); every API path starts with /v1.
    const root = (config.baseURL ?? mistralEntry.defaultBaseURL).replace(/\/+$/, "");
    this.client = new RestClient({
      apiKey: config.apiKey,
      baseURL: `${root}/v1`,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      provider: this.name,
      ...(config.onRetry ? { onRetry: config.onRetry } : {}),
    });
    this.checkEndpoint(config.endpoint ?? CHAT_COMPLETIONS);
  }

  checkEndpoint(endpoint: string | null): string {
    return checkOnlyEndpoint(mistralEntry.displayName, CHAT_COMPLETIONS, endpoint);
  }

  readonly encodeRequest = (request: BatchRequest): string => encodeMistralLine(request);
  /** Embeddings jobs: the batch endpoint `/v1/embeddings`, one text per line. */
  readonly embeddingsEndpoint = EMBEDDINGS;
  readonly encodeEmbedding = (request: EmbeddingRequest): string => encodeMistralEmbedding(request);
  readonly normaliseStatus = normaliseMistralStatus;
  readonly parseRecord = parseMistralRecord;

  async uploadShard(shardPath: string): Promise<string> {
    try {
      return await uploadMultipartFile(this.client, { ...UPLOAD, filePath: shardPath });
    } catch (error) {
      throw toProviderError(this.name, "uploading the request file", error);
    }
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    if (!input.inputFileId) throw new Error("Mistral batches from Relay need an uploaded input file");
    if (!input.model) throw new Error("Mistral batches name their model; the shard has none");
    let answer: unknown;
    try {
      // Sent once: a lost answer is reported as ambiguous and resolved by findBatch, never by sending it again.
      answer = await this.client.call("POST", "/batch/jobs", {
        json: {
          input_files: [input.inputFileId],
          endpoint: input.endpoint ?? CHAT_COMPLETIONS,
          model: input.model,
          metadata: metadataFor(input.tags),
          timeout_hours: TIMEOUT_HOURS,
        },
        retry: false,
      });
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
    const job = asObject(answer);
    if (!job || typeof job.id !== "string") {
      throw new AmbiguousCreateError(`${this.name}: the batch creation answer holds no batch job`);
    }
    return toProviderBatch(job);
  }

  /**
   * Every job carries its job, shard, submission and attempt in `metadata`; the account's jobs are listed newest
   * first and the one with this shard's tags, and not of an earlier attempt, is the answer. Exact.
   */
  async findBatch(lookup: BatchLookup): Promise<ProviderBatch | null> {
    const earlier = new Set(lookup.previousBatchIds);
    for await (const job of this.jobsSince(lookup.since)) {
      if (matchesTags(job.metadata, lookup.tags) && !earlier.has(String(job.id))) return toProviderBatch(job);
    }
    return null;
  }

  getBatches(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>> {
    return pickListed(this.jobsSince(since), {
      wanted: batchIds,
      since,
      pageSize: PAGE_SIZE,
      idOf: (job) => (typeof job.id === "string" ? job.id : undefined),
      createdAtOf,
      convert: toProviderBatch,
    });
  }

  /**
   * The account's jobs, newest first, down to the first one created before `since` (with slack for clock skew).
   * Pages are numbered from 0 and the answer gives the `total`; a job created meanwhile pushes the others one
   * place down, so a job can be seen twice but is never skipped.
   */
  private async *jobsSince(since: number): AsyncGenerator<JsonObject> {
    const fetchPage = async (cursor: string | null): Promise<Page<JsonObject>> => {
      const page = cursor === null ? 0 : Number(cursor);
      const query = new URLSearchParams({
        page: String(page),
        page_size: String(PAGE_SIZE),
        order_by: "-created",
      });
      const list = asObject(await this.client.call("GET", `/batch/jobs?${query}`, { retry: true }));
      const items = asArray(list?.data)
        .map(asObject)
        .filter((job): job is JsonObject => job !== undefined);
      const total = asNumber(list?.total) ?? 0;
      return { items, next: (page + 1) * PAGE_SIZE < total ? String(page + 1) : null };
    };
    try {
      for await (const job of pages(fetchPage)) {
        yield job;
        if (createdAtOf(job) < since - CLOCK_SLACK_MS) return;
      }
    } catch (error) {
      throw toProviderError(this.name, "listing batch jobs", error);
    }
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    // `inline=false`: the answer never carries the job's outputs, however many there are.
    const path = `/batch/jobs/${encodeURIComponent(batchId)}?inline=false`;
    return toProviderBatch(await this.job("GET", path, `reading batch job ${batchId}`));
  }

  cancelBatch(batchId: string): Promise<ProviderBatch> {
    const path = `/batch/jobs/${encodeURIComponent(batchId)}/cancel`;
    // Asking twice to cancel the same job does no harm: retried like a read.
    return cancelUnlessEnded(
      async () => toProviderBatch(await this.job("POST", path, `cancelling batch job ${batchId}`)),
      () => this.getBatch(batchId),
    );
  }

  private async job(method: string, path: string, action: string): Promise<JsonObject> {
    let job: JsonObject | undefined;
    try {
      job = asObject(await this.client.call(method, path, { retry: true }));
    } catch (error) {
      throw toProviderError(this.name, action, error);
    }
    if (!job || typeof job.id !== "string") {
      throw toProviderError(this.name, action, new Error("the answer is not a batch job"));
    }
    return job;
  }

  /** Results exist once the job has ended: the output file (successes) and the error file (failures). */
  /** The uploaded input file and the output and error files (Mistral keeps results with no expiry). */
  deleteBatchFiles(files: BatchFiles): Promise<string[]> {
    return deleteFilesOf(this.client, this.name, files);
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    for (const fileId of [batch.outputFileId, batch.errorFileId]) {
      if (!fileId) continue;
      try {
        // A download cut midway is read again from the start, skipping the records already yielded.
        const records = resumableRecords(() => this.client.openContent(fileId), {
          parse: (line) => JSON.parse(line) as unknown,
          idOf: customIdOf,
        });
        for await (const record of records) {
          const parsed = parseMistralRecord(record);
          if (parsed) yield parsed;
        }
      } catch (error) {
        throw toProviderError(this.name, `downloading file ${fileId}`, error);
      }
    }
  }
}
