import { ValidationError } from "../../errors.js";
import { type BatchRequest, isFinished } from "../../types.js";
import { deleteFilesOf } from "../shared/delete.js";
import { classifyCreateError, toProviderError } from "../shared/errors.js";
import { HttpStatusError } from "../shared/http.js";
import { asArray, asObject, asString, type JsonObject } from "../shared/json.js";
import { customIdOf, resumableRecords } from "../shared/lines.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
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
import { hasEnded, toProviderBatch } from "./batch.js";
import { CHAT_COMPLETIONS, encodeTogetherLine } from "./encode.js";
import { togetherEntry } from "./entry.js";
import { uploadFileName } from "./file-name.js";
import { normaliseTogetherStatus } from "./status.js";
import { uploadBatchFile } from "./upload.js";

/** Together AI's Files and Batches APIs over Relay's own HTTP client (the SDK's upload is broken on Node 20). */
export class TogetherAdapter implements ProviderAdapter {
  readonly name = "together" as const;
  readonly limits: ProviderLimits = togetherEntry.limits;
  readonly defaultEndpoint = CHAT_COMPLETIONS;
  private readonly client: RestClient;
  /** Failed requests per error file ID; an error file does not change once its batch has ended. */
  private readonly failures = new Map<string, number>();

  constructor(config: ResolvedProviderConfig) {
    this.client = new RestClient({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? togetherEntry.defaultBaseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      provider: this.name,
      ...(config.onRetry ? { onRetry: config.onRetry } : {}),
    });
    this.checkEndpoint(config.endpoint ?? CHAT_COMPLETIONS);
  }

  checkEndpoint(endpoint: string | null): string {
    const chosen = endpoint ?? CHAT_COMPLETIONS;
    if (chosen !== CHAT_COMPLETIONS) {
      throw new ValidationError(
        `Together batches in Relay support the endpoint ${CHAT_COMPLETIONS}, not "${chosen}".`,
        "unsupported_endpoint",
      );
    }
    return chosen;
  }

  encodeRequest(request: BatchRequest): string {
    return encodeTogetherLine(request);
  }

  normaliseStatus(status: string) {
    return normaliseTogetherStatus(status);
  }

  parseRecord(raw: unknown): ParsedResult | null {
    return parseOpenAIShapedLine(raw);
  }

  async uploadShard(shardPath: string, tags: ShardTags): Promise<string> {
    try {
      return await uploadBatchFile(this.client, shardPath, uploadFileName(tags));
    } catch (error) {
      throw toProviderError(this.name, "uploading the request file", error);
    }
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    if (!input.inputFileId) throw new Error("Together batches need an uploaded input file");
    let answer: unknown;
    try {
      // Sent once: a lost answer is reported as ambiguous and resolved by findBatch, never by sending it again.
      answer = await this.client.call("POST", "/batches", {
        json: {
          endpoint: input.endpoint ?? CHAT_COMPLETIONS,
          input_file_id: input.inputFileId,
          completion_window: "24h",
        },
        retry: false,
      });
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
    const job = asObject(asObject(answer)?.job) ?? asObject(answer);
    if (!job || typeof job.id !== "string") {
      throw new AmbiguousCreateError(`${this.name}: the batch creation answer holds no batch job`);
    }
    return this.describe(job);
  }

  /**
   * Together batches carry no metadata. Each shard uploads its own input file, so a batch whose `input_file_id`
   * is that file belongs to the shard; a shard submitted again after a passing failure reuses its file, so the
   * batches of earlier attempts are skipped and the newest other one is the answer.
   */
  async findBatch(lookup: BatchLookup): Promise<ProviderBatch | null> {
    const fileId = lookup.inputFileId;
    if (!fileId) return null;
    let list: unknown;
    try {
      list = await this.client.call("GET", "/batches", { retry: true });
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
    // The spec's list is a bare array; a `{data: [...]}` page is accepted too.
    const jobs = Array.isArray(list) ? list : asArray(asObject(list)?.data);
    const earlier = new Set(lookup.previousBatchIds);
    const candidates = jobs
      .map(asObject)
      .filter((job): job is JsonObject => job?.input_file_id === fileId && !earlier.has(String(job.id)));
    const newest = candidates.sort((a, b) => createdAt(b) - createdAt(a))[0];
    return newest ? this.describe(newest) : null;
  }

  async getBatches(batchIds: readonly string[]): Promise<Map<string, ProviderBatch>> {
    const wanted = new Set(batchIds);
    let list: unknown;
    try {
      list = await this.client.call("GET", "/batches", { retry: true });
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
    const found = new Map<string, ProviderBatch>();
    for (const job of (Array.isArray(list) ? list : asArray(asObject(list)?.data)).map(asObject)) {
      const id = asString(job?.id);
      if (job && id && wanted.has(id)) found.set(id, await this.describe(job));
    }
    return found;
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    let job: JsonObject | undefined;
    try {
      job = asObject(
        await this.client.call("GET", `/batches/${encodeURIComponent(batchId)}`, { retry: true }),
      );
    } catch (error) {
      throw toProviderError(this.name, `reading batch ${batchId}`, error);
    }
    if (!job)
      throw toProviderError(
        this.name,
        `reading batch ${batchId}`,
        new Error("the answer is not a batch job"),
      );
    return this.describe(job);
  }

  async cancelBatch(batchId: string): Promise<ProviderBatch> {
    let job: JsonObject | undefined;
    try {
      job = asObject(
        await this.client.call("POST", `/batches/${encodeURIComponent(batchId)}/cancel`, { retry: true }),
      );
    } catch (error) {
      // Refused because the batch has already ended (or an earlier, retried cancel went through): report it as is.
      if (error instanceof HttpStatusError && (error.status === 400 || error.status === 409)) {
        const current = await this.getBatch(batchId);
        if (isFinished(current.status)) return current;
      }
      throw toProviderError(this.name, `cancelling batch ${batchId}`, error);
    }
    return job && typeof job.id === "string" ? this.describe(job) : this.getBatch(batchId);
  }

  deleteBatchFiles(files: BatchFiles): Promise<string[]> {
    return deleteFilesOf(this.client, this.name, files);
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    for (const fileId of [batch.outputFileId, batch.errorFileId]) {
      if (!fileId) continue;
      for await (const record of this.records(fileId)) {
        const parsed = this.parseRecord(record);
        if (parsed) yield parsed;
      }
    }
  }

  /** Every JSON record of a result file, downloaded as a stream; a download cut midway is resumed. */
  private async *records(fileId: string): AsyncGenerator<unknown> {
    try {
      yield* resumableRecords(() => this.client.openContent(fileId), {
        parse: (line) => JSON.parse(line) as unknown,
        idOf: customIdOf,
      });
    } catch (error) {
      throw toProviderError(this.name, `downloading file ${fileId}`, error);
    }
  }

  private async describe(job: JsonObject): Promise<ProviderBatch> {
    const errorFileId = asString(job.error_file_id);
    const failures = hasEnded(job) && errorFileId ? await this.failedRequests(errorFileId) : 0;
    return toProviderBatch(job, failures);
  }

  /** Failures recorded in an ended batch's error file (expired or cancelled requests are not failures). */
  private async failedRequests(errorFileId: string): Promise<number> {
    const known = this.failures.get(errorFileId);
    if (known !== undefined) return known;
    try {
      let failed = 0;
      for await (const record of this.records(errorFileId)) {
        if (this.parseRecord(record)?.result.status === "failed") failed += 1;
      }
      this.failures.set(errorFileId, failed);
      return failed;
    } catch {
      return 0;
    }
  }
}

function createdAt(job: JsonObject): number {
  const at = Date.parse(asString(job.created_at) ?? "");
  return Number.isNaN(at) ? 0 : at;
}
