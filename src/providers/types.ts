import type { BatchRequest, BatchResult, EmbeddingRequest, JobStatus, RequestKind } from "../types.js";

/** What one provider batch may hold. The planner splits jobs so that every shard respects these. */
export interface ProviderLimits {
  maxRequestsPerBatch: number;
  /** Bytes of the encoded shard (the JSONL file, or the inline request body). */
  maxBytesPerBatch: number;
  /** Bytes of one encoded request line. */
  maxBytesPerRequest: number;
  customIdPattern: RegExp;
  /** The custom_id rule in words, for error messages. */
  customIdRule: string;
  oneModelPerBatch: boolean;
}

/** The identity Relay puts on each batch it creates, so that a crashed submission can find its batch again. */
export interface ShardTags {
  jobId: string;
  shardIndex: number;
  submissionId: string;
  /** 0 for the first batch of a shard; raised each time the shard is submitted again (e.g. after token_limit_exceeded). */
  attempt: number;
}

/** What is known about a shard whose batch creation had an unknown outcome. */
export interface BatchLookup {
  tags: ShardTags;
  /** When the create call was about to be sent (unix ms). */
  since: number;
  inputFileId: string | null;
  nRequests: number;
  /** Batches earlier attempts of this shard created (they failed); never the answer. */
  previousBatchIds: readonly string[];
  /**
   * Every batch ID recorded anywhere in the workspace (other shards, other jobs): never the answer either. Read on
   * demand, for providers that cannot tag their batches.
   */
  knownBatchIds: () => Promise<ReadonlySet<string>>;
}

/** A provider batch as Relay sees it. */
export interface ProviderBatch {
  id: string;
  status: JobStatus;
  providerStatus: string;
  total: number;
  completed: number;
  failed: number;
  inputFileId: string | null;
  outputFileId: string | null;
  errorFileId: string | null;
  /** Why the batch as a whole failed, if it did. */
  error: { code?: string; message: string } | null;
  /**
   * For providers that report progress instead of request counts (Together): the share of requests processed,
   * 0 to 1, with `failed` the failures known so far; Relay turns it into counts with the shard's request count.
   * Null when `total`, `completed` and `failed` are the provider's own counts.
   */
  progress: number | null;
  createdAt: number | null;
  /** When the provider stops serving the batch's results (unix ms), if it says or documents it. */
  resultsExpireAt?: number | null;
  raw: unknown;
}

/** What Relay knows of a batch's files at the provider, for deleting them once the results are stored. */
export interface BatchFiles {
  batchId: string | null;
  inputFileId: string | null;
  outputFileId: string | null;
  errorFileId: string | null;
}

/** A result as parsed from a provider record, before Relay puts it in request order. */
export interface ParsedResult {
  customId: string;
  result: Omit<BatchResult, "id">;
}

export interface EncodeOptions {
  endpoint: string | null;
}

export interface CreateBatchInput {
  /** The uploaded file (file-based providers) or null (inline providers, which read `shardPath`). */
  inputFileId: string | null;
  shardPath: string;
  endpoint: string | null;
  /** The shard's model where the provider takes one model per batch, for providers that name it on the batch. */
  model?: string | null;
  /** What the job's requests are (providers with separate routes for embeddings batches need it). */
  kind?: RequestKind;
  tags: ShardTags;
}

/**
 * For providers whose batches are created empty and then filled with requests (xAI). The shard's requests are added
 * in file order, so "how many are in the batch" is a count of the shard's first lines.
 */
export interface AddRequestsInput {
  batchId: string;
  shardPath: string;
  endpoint: string | null;
  /** How many of the shard's first requests the batch is known to hold. */
  added: number;
  /**
   * An earlier attempt may have added more than `added` (it crashed, or an answer was lost): the adapter asks the
   * provider which requests the batch holds before sending any, so that none is sent twice.
   */
  uncertain: boolean;
  /** Called after each call that added requests, with the new count of the shard's first requests held. */
  onAdded(added: number): Promise<void>;
}

/** Thrown by createBatch when the request may or may not have created a batch (timeout, reset, 5xx). */
export class AmbiguousCreateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AmbiguousCreateError";
  }
}

/** Everything Relay needs from a provider. One implementation per folder under providers/. */
export interface ProviderAdapter {
  readonly name: string;
  readonly limits: ProviderLimits;
  /** The endpoint used when the caller names none (null for providers without a choice). */
  readonly defaultEndpoint: string | null;
  /** Throws a ValidationError if the endpoint is not one this provider supports for batches. */
  checkEndpoint(endpoint: string | null): string | null;
  /** One request as a line of the shard file (JSON without the newline). */
  encodeRequest(request: BatchRequest, options: EncodeOptions): string;
  /** Encodes one text to embed; only providers that batch embeddings (entry feature "embeddings") have it. */
  encodeEmbedding?(request: EmbeddingRequest, options: EncodeOptions): string;
  /** The batch endpoint of embeddings jobs, where the provider names endpoints (OpenAI: "/v1/embeddings"). */
  readonly embeddingsEndpoint?: string;
  /** Uploads a shard file when the provider takes files; returns its file ID, or null for inline providers. */
  uploadShard(shardPath: string, tags: ShardTags): Promise<string | null>;
  /** Creates the batch exactly once: never retried here; throws AmbiguousCreateError when the outcome is unknown. */
  createBatch(input: CreateBatchInput): Promise<ProviderBatch>;
  /**
   * Providers whose batches are created empty (xAI): adds the shard's requests from `input.added` on, in calls within
   * the provider's size limit, and returns the batch once it holds them all. A call whose outcome is unknown throws
   * AmbiguousCreateError; a refused one a ProviderError with its HTTP status.
   */
  addRequests?(input: AddRequestsInput): Promise<ProviderBatch>;
  /**
   * Looks for the batch a create call may have made although its answer was lost. Providers with batch metadata
   * match the tags; others match the uploaded input file, or document their own rule.
   */
  findBatch(lookup: BatchLookup): Promise<ProviderBatch | null>;
  getBatch(batchId: string): Promise<ProviderBatch>;
  /**
   * Several batches in as few calls as the provider allows (its list endpoint), for watching many shards cheaply.
   * Batches created before `since` (unix ms, with slack) may be left out; the caller asks for those one by one.
   */
  getBatches?(batchIds: readonly string[], since: number): Promise<Map<string, ProviderBatch>>;
  cancelBatch(batchId: string): Promise<ProviderBatch>;
  /** Every result record the provider holds for a finished batch, from all its result files, in any order. */
  readResults(batch: ProviderBatch): AsyncIterable<ParsedResult>;
  /**
   * Deletes what the provider keeps for a finished batch that Relay no longer needs once its results are stored
   * (uploaded input file, result files, or the batch itself); already gone counts as deleted. Returns what was
   * deleted. Absent for providers that keep nothing deletable.
   */
  deleteBatchFiles?(files: BatchFiles): Promise<string[]>;
  /** Parses one raw result record as stored by this adapter or by the Python Relay. */
  parseRecord(raw: unknown): ParsedResult | null;
  normaliseStatus(providerStatus: string): JobStatus;
}

export interface ProviderConfig {
  apiKey?: string;
  baseURL?: string;
  /** Default endpoint for batches (OpenAI: "/v1/chat/completions" or "/v1/responses"). */
  endpoint?: string;
  /** Smaller batches than the provider allows (never larger): requests per batch. */
  maxRequestsPerBatch?: number;
  /** Smaller batches than the provider allows (never larger): bytes per batch file or body. */
  maxBytesPerBatch?: number;
  /**
   * An enqueued-token budget: estimated prompt tokens of this provider's running batches, per model, across every
   * job of the workspace. A number applies to each model; an object names models ("*" for the rest). Shards are
   * sized to fit it, and a shard that does not fit waits until earlier batches finish.
   */
  enqueuedTokenBudget?: number | Record<string, number>;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Retries on 429/5xx/network errors for reads (status, downloads); creation is never retried blindly. */
  maxRetries?: number;
  /** Azure OpenAI: the api-version of the versioned API (else `OPENAI_API_VERSION`); unset, the v1 API is used. */
  apiVersion?: string;
  /** Groq: how long a batch may take, "24h" to "7d" (default "24h"). */
  completionWindow?: string;
  /** xAI: bytes per add-requests call (smaller calls than the API's 25 MB, never larger). */
  maxBytesPerAddCall?: number;
}

/** A provider's configuration with the environment applied; what an adapter is built from. */
export interface ResolvedProviderConfig
  extends Omit<ProviderConfig, "apiKey" | "baseURL" | "endpoint" | "timeoutMs" | "maxRetries"> {
  apiKey: string;
  baseURL: string | undefined;
  endpoint: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  /** The environment the configuration was read from, for provider-specific variables. */
  env: NodeJS.ProcessEnv;
}
