import { stat } from "node:fs/promises";
import { basename } from "node:path";
import OpenAI from "openai";
import type { Batch } from "openai/resources/batches";
import { ValidationError } from "../../errors.js";
import { type BatchRequest, isFinished } from "../../types.js";
import { classifyCreateError, toProviderError } from "../shared/errors.js";
import { readText } from "../shared/http.js";
import { asObject, asString } from "../shared/json.js";
import { customIdOf, resumableRecords } from "../shared/lines.js";
import { multipartFileBody } from "../shared/multipart.js";
import { parseOpenAIShapedLine } from "../shared/openai-shape.js";
import { CLOCK_SLACK_MS, pickListed } from "../shared/paging.js";
import { RestClient } from "../shared/rest-client.js";
import { sdkRetryLogging } from "../shared/retry-notice.js";
import type {
  BatchLookup,
  CreateBatchInput,
  EncodeOptions,
  ParsedResult,
  ProviderAdapter,
  ProviderBatch,
  ProviderLimits,
  ResolvedProviderConfig,
  ShardTags,
} from "../types.js";
import { CHAT_COMPLETIONS, encodeOpenAILine, RESPONSES } from "./encode.js";
import { openaiEntry } from "./entry.js";
import { normaliseOpenAIStatus } from "./status.js";

const ENDPOINTS = new Set([CHAT_COMPLETIONS, RESPONSES]);

/** Metadata keys that tie a provider batch to the Relay job and shard that created it. */
export function metadataFor(tags: ShardTags): Record<string, string> {
  return {
    relay_job_id: tags.jobId,
    relay_shard: String(tags.shardIndex),
    relay_submission: tags.submissionId,
    relay_attempt: String(tags.attempt),
  };
}

export function matchesTags(metadata: unknown, tags: ShardTags): boolean {
  const values = (metadata ?? {}) as Record<string, unknown>;
  return (
    values.relay_submission === tags.submissionId &&
    values.relay_shard === String(tags.shardIndex) &&
    values.relay_attempt === String(tags.attempt)
  );
}

export function toProviderBatch(batch: Batch): ProviderBatch {
  const errors = batch.errors?.data ?? [];
  const first = errors[0];
  const error =
    batch.status === "failed"
      ? {
          ...(first?.code ? { code: first.code } : {}),
          message:
            errors
              .map((entry) => `${entry.message ?? entry.code}${entry.line ? ` (line ${entry.line})` : ""}`)
              .join("; ") || "the batch failed",
        }
      : null;
  return {
    id: batch.id,
    status: normaliseOpenAIStatus(batch.status),
    providerStatus: batch.status,
    total: batch.request_counts?.total ?? 0,
    completed: batch.request_counts?.completed ?? 0,
    failed: batch.request_counts?.failed ?? 0,
    inputFileId: batch.input_file_id ?? null,
    outputFileId: batch.output_file_id ?? null,
    errorFileId: batch.error_file_id ?? null,
    error,
    progress: null,
    createdAt: typeof batch.created_at === "number" ? batch.created_at * 1000 : null,
    raw: batch,
  };
}

/** OpenAI's Files and Batches APIs through the official SDK. */
export class OpenAIAdapter implements ProviderAdapter {
  readonly name = "openai" as const;
  readonly limits: ProviderLimits = openaiEntry.limits;
  readonly defaultEndpoint: string;
  private readonly client: OpenAI;
  private readonly rest: RestClient;

  constructor(config: ResolvedProviderConfig) {
    this.client = new OpenAI({
      apiKey: config.apiKey,
      ...(config.baseURL ? { baseURL: config.baseURL } : {}),
      maxRetries: config.maxRetries,
      timeout: config.timeoutMs,
      ...sdkRetryLogging(this.name, config.onRetry),
    });
    this.rest = new RestClient({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? openaiEntry.defaultBaseURL,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      provider: this.name,
      ...(config.onRetry ? { onRetry: config.onRetry } : {}),
    });
    this.defaultEndpoint = this.checkEndpoint(config.endpoint ?? CHAT_COMPLETIONS) ?? CHAT_COMPLETIONS;
  }

  checkEndpoint(endpoint: string | null): string | null {
    const chosen = endpoint ?? CHAT_COMPLETIONS;
    if (!ENDPOINTS.has(chosen)) {
      throw new ValidationError(
        `OpenAI batches in Relay support the endpoints ${[...ENDPOINTS].join(" and ")}, not "${chosen}".`,
        "unsupported_endpoint",
      );
    }
    return chosen;
  }

  encodeRequest(request: BatchRequest, options: EncodeOptions): string {
    return encodeOpenAILine(request, options.endpoint ?? this.defaultEndpoint);
  }

  normaliseStatus(status: string) {
    return normaliseOpenAIStatus(status);
  }

  /**
   * Uploads through node:http rather than the SDK: Node 20's fetch holds a request body in memory while sending it
   * (a 200 MB shard would cost about that much), whereas this streams the file from disk. A retried upload at worst
   * leaves an unused file at the provider, never a second batch.
   */
  async uploadShard(shardPath: string): Promise<string> {
    try {
      const { size } = await stat(shardPath);
      const { headers, body } = multipartFileBody({
        fields: { purpose: "batch" },
        fileField: "file",
        fileName: basename(shardPath),
        path: shardPath,
        size,
        contentType: "application/jsonl",
      });
      const text = await this.rest.withRetries(async () =>
        readText(await this.rest.request("POST", this.rest.url("/files"), { headers, body })),
      );
      const id = asString(asObject(JSON.parse(text))?.id);
      if (!id) throw new Error("the upload was answered without a file id");
      return id;
    } catch (error) {
      throw toProviderError(this.name, "uploading the request file", error);
    }
  }

  async createBatch(input: CreateBatchInput): Promise<ProviderBatch> {
    if (!input.inputFileId) throw new Error("OpenAI batches need an uploaded input file");
    try {
      const batch = await this.client.batches.create(
        {
          input_file_id: input.inputFileId,
          endpoint: (input.endpoint ?? this.defaultEndpoint) as OpenAI.BatchCreateParams["endpoint"],
          completion_window: "24h",
          metadata: metadataFor(input.tags),
        },
        { maxRetries: 0 },
      );
      return toProviderBatch(batch);
    } catch (error) {
      throw classifyCreateError(this.name, error);
    }
  }

  async findBatch({ tags, since }: BatchLookup): Promise<ProviderBatch | null> {
    for await (const batch of this.batchesSince(since)) {
      if (matchesTags(batch.metadata, tags)) return toProviderBatch(batch);
    }
    return null;
  }

  getBatches(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>> {
    return pickListed(this.batchesSince(since), {
      wanted: batchIds,
      since,
      pageSize: 100,
      idOf: (batch) => batch.id,
      createdAtOf: (batch) => batch.created_at * 1000,
      convert: toProviderBatch,
    });
  }

  /** The account's batches, newest first, down to the first one created before `since` (with slack for skew). */
  private async *batchesSince(since: number): AsyncGenerator<Batch> {
    try {
      for await (const batch of this.client.batches.list({ limit: 100 })) {
        yield batch;
        if (batch.created_at * 1000 < since - CLOCK_SLACK_MS) return;
      }
    } catch (error) {
      throw toProviderError(this.name, "listing batches", error);
    }
  }

  async getBatch(batchId: string): Promise<ProviderBatch> {
    try {
      return toProviderBatch(await this.client.batches.retrieve(batchId));
    } catch (error) {
      throw toProviderError(this.name, `reading batch ${batchId}`, error);
    }
  }

  async cancelBatch(batchId: string): Promise<ProviderBatch> {
    try {
      return toProviderBatch(await this.client.batches.cancel(batchId));
    } catch (error) {
      // A batch that ended between the last status check and the cancel refuses it (409): report it as it is.
      const status = (error as { status?: unknown }).status;
      if (status === 400 || status === 409) {
        const batch = await this.getBatch(batchId);
        if (isFinished(batch.status)) return batch;
      }
      throw toProviderError(this.name, `cancelling batch ${batchId}`, error);
    }
  }

  async *readResults(batch: ProviderBatch): AsyncGenerator<ParsedResult> {
    for (const fileId of [batch.outputFileId, batch.errorFileId]) {
      if (!fileId) continue;
      const records = resumableRecords(
        async () => {
          try {
            const response = await this.client.files.content(fileId);
            return response.body;
          } catch (error) {
            throw toProviderError(this.name, `downloading file ${fileId}`, error);
          }
        },
        { parse: (line) => JSON.parse(line) as unknown, idOf: customIdOf },
      );
      for await (const record of records) {
        const parsed = this.parseRecord(record);
        if (parsed) yield parsed;
      }
    }
  }

  parseRecord(raw: unknown): ParsedResult | null {
    return parseOpenAIShapedLine(raw);
  }
}
