import type { PROVIDER_ENTRIES } from "./providers/index.js";

/** Providers Relay can send batches to (one per entry in providers/index.ts). */
export type ProviderName = (typeof PROVIDER_ENTRIES)[number]["name"];

/** A piece of a message: text, or an image by URL or as base64 data. */
export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image"; url: string }
  | { type: "image"; data: string; mediaType: string };

/** One message of a multi-turn conversation: text, or a list of parts (text and images). */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string | ContentPart[];
}

/** Structured output: the model must answer JSON that validates against the schema (JSON Schema). */
export interface JsonSchemaFormat {
  type: "json_schema";
  /** A name for the schema (letters, digits, `_` and `-`, at most 64 characters), as providers require one. */
  name: string;
  /** A JSON Schema object, or a zod 4 schema (converted with its own toJSONSchema()). */
  schema: Record<string, unknown> | ZodSchemaLike;
  /** Ask the provider to enforce the schema strictly where it can (OpenAI's `strict`). Default true. */
  strict?: boolean;
}

/** What Relay needs of a zod 4 schema: its JSON Schema export. */
export interface ZodSchemaLike {
  toJSONSchema(): Record<string, unknown>;
}

/** A function the model may call. */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** The arguments as a JSON Schema object. */
  parameters: Record<string, unknown>;
}

/** Whether and which tool the model must call. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** How hard a reasoning model thinks before it answers. */
export type ReasoningEffort = "minimal" | "low" | "medium" | "high";

/** One prompt to run. `id` becomes the provider's `custom_id` and must be unique within a job. */
export interface BatchRequest {
  id: string;
  model: string;
  /** The user prompt. Required unless `messages` is given. */
  prompt?: string;
  systemPrompt?: string;
  /** Multi-turn input; when given, `prompt` is appended as a final user turn if also present. */
  messages?: ChatMessage[];
  maxTokens?: number;
  /** Structured output: a JSON Schema (or a zod 4 schema) the answer must satisfy; results carry it as `json`. */
  responseFormat?: JsonSchemaFormat | ZodSchemaLike;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  seed?: number;
  reasoningEffort?: ReasoningEffort;
  /** Mark the system prompt for the provider's prompt cache (Anthropic); a no-op where caching is automatic. */
  cacheSystemPrompt?: boolean;
  /** Provider-native request fields, merged into the request body after the ones Relay sets. */
  providerArgs?: Record<string, unknown>;
}

/** One text to embed, in a job of `kind: "embeddings"`. */
export interface EmbeddingRequest {
  id: string;
  model: string;
  input: string;
  /** The vector's length, for models that can shorten it. */
  dimensions?: number;
  providerArgs?: Record<string, unknown>;
}

/** What a job's requests are: chat (or completion) requests, or texts to embed. */
export type RequestKind = "chat" | "embeddings";

/** Normalised job status. `finalizing` at the provider is still `in_progress` here. */
export type JobStatus =
  | "pending"
  | "in_progress"
  | "completed"
  | "failed"
  | "expired"
  | "cancelling"
  | "cancelled";

export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set([
  "completed",
  "failed",
  "expired",
  "cancelled",
]);

export function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.has(status);
}

/**
 * `invalid_output`: the model answered, but not with JSON that satisfies the request's schema (the text is kept and
 * the error says why); retryFailed can run those again.
 */
export type ResultStatus = "succeeded" | "failed" | "cancelled" | "expired" | "invalid_output";

/** Every result status, in the order people read them. */
export const RESULT_STATUSES: readonly ResultStatus[] = [
  "succeeded",
  "failed",
  "expired",
  "cancelled",
  "invalid_output",
];

export interface Usage {
  /** Every prompt token, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** How many of inputTokens were read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** How many of inputTokens were written to the provider's prompt cache (Anthropic bills them apart). */
  cacheWriteInputTokens?: number;
  /** How many of outputTokens were spent on reasoning. */
  reasoningTokens?: number;
  /** How many of inputTokens were images, where the provider says. */
  imageInputTokens?: number;
}

/** A call the model asked for. */
export interface ToolCall {
  id: string;
  name: string;
  /** The arguments, parsed from JSON (kept as the provider's string when they do not parse). */
  arguments: unknown;
}

/** Normalised finish reasons; the provider's own value is in `raw`. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "other";

/** One result per request, always, in the order the requests were given. */
export interface BatchResult {
  id: string;
  status: ResultStatus;
  text?: string;
  /** Structured output, parsed and checked against the request's schema. */
  json?: unknown;
  toolCalls?: ToolCall[];
  /** For embeddings jobs: the vector. */
  embedding?: number[];
  usage?: Usage;
  finishReason?: FinishReason;
  error?: { code?: string; message: string };
  /** The model that answered, as the provider named it (for pricing). */
  model?: string;
  /** In merged results of a retry chain: the job this result came from, and its place in the chain (0: the first). */
  attempt?: { jobId: string; number: number };
  /** The provider's own record, unchanged (null when the provider returned nothing for this request). */
  raw: unknown;
}

/** What `submitBatch` and `monitorBatch` return. */
export interface BatchJob {
  jobId: string;
  provider: ProviderName;
  submittedAt: string;
  status: JobStatus;
  /** The provider's own status (for jobs over several batches: each distinct status, comma-separated). */
  providerStatus: string;
  nRequests: number;
  completedRequests: number;
  failedRequests: number;
  description: string;
  /** Provider batch IDs, one per shard, in shard order (null where a shard is not created yet). */
  providerBatchIds: (string | null)[];
}
