import type { IncomingMessage } from "node:http";
import { estimateTokens } from "../completion.js";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { SimulatedBatch, TERMINAL_PHASES } from "../engine.js";
import { FileStore, makeId, type StoredFile } from "../files.js";
import { HttpError, parseMultipart, Router, readBody, readJson, sendJson, sendLines } from "../http.js";
import { parseBatchInput } from "./input.js";
import { openAIResultLine } from "./lines.js";

const ENDPOINTS = new Set([
  "/v1/responses",
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/completions",
  "/v1/moderations",
]);
const FILE_PURPOSES = new Set(["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]);
const MAX_REQUESTS = 50_000;
const MAX_FILE_BYTES = 200 * 1024 * 1024;
/** CreateBatchRequest's properties; anything else in the body is refused. */
const CREATE_BATCH_PARAMS = new Set([
  "input_file_id",
  "endpoint",
  "completion_window",
  "metadata",
  "output_expires_after",
]);
/** Files of purpose `batch` expire after 30 days unless asked otherwise; others are kept until deleted. */
const BATCH_FILE_LIFETIME_S = 30 * 24 * 3600;

interface OpenAIBatch {
  sim: SimulatedBatch;
  endpoint: string;
  inputFileId: string;
  metadata: Record<string, string> | null;
  outputFileId?: string;
  errorFileId?: string;
  /** `output_expires_after.seconds`: how long the output and error files live after they are made. */
  outputLifetimeSeconds: number | null;
  usage?: Record<string, unknown>;
  /** Prompt tokens the batch holds in the enqueued-token queue while it runs. */
  enqueuedTokens: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A key as providers echo it in a 401: its first and last few characters only. */
export function redactKey(key: string): string {
  return key.length <= 8
    ? "****"
    : `${key.slice(0, 3)}${"*".repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}

/** OpenAI's error body, also used by the OpenAI-compatible providers. */
export function openAIErrorBody(status: number, code: string, message: string) {
  const type =
    status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  return { error: { message, type, param: null, code: code === "" ? null : code } };
}

/** A stored file with the expiry its upload or batch asked for (null: kept until deleted). */
type OpenAIFile = StoredFile & { lifetimeSeconds?: number | null };

function fileObject(file: OpenAIFile, bytes: number) {
  const lifetime = file.lifetimeSeconds === undefined ? BATCH_FILE_LIFETIME_S : file.lifetimeSeconds;
  return {
    id: file.id,
    object: "file",
    bytes,
    created_at: seconds(file.createdAt),
    ...(lifetime === null ? {} : { expires_at: seconds(file.createdAt) + lifetime }),
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
  };
}

/** An expiration policy `{anchor: "created_at", seconds}` (1 hour to 30 days), as files and batch outputs take. */
function checkExpiration(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  const policy = value as { anchor?: unknown; seconds?: unknown };
  if (typeof value !== "object" || Array.isArray(value))
    throw new HttpError(400, "invalid_type", `Invalid type for '${name}': expected an object.`);
  for (const key of Object.keys(policy)) {
    if (key !== "anchor" && key !== "seconds")
      throw new HttpError(400, "unknown_parameter", `Unknown parameter: '${name}.${key}'.`);
  }
  if (policy.anchor !== "created_at") {
    throw new HttpError(
      400,
      "invalid_value",
      `Invalid value for '${name}.anchor': expected 'created_at', got ${JSON.stringify(policy.anchor ?? null)}.`,
    );
  }
  const lifetime = policy.seconds;
  if (
    typeof lifetime !== "number" ||
    !Number.isInteger(lifetime) ||
    lifetime < 3600 ||
    lifetime > 2_592_000
  ) {
    throw new HttpError(
      400,
      "invalid_value",
      `Invalid '${name}.seconds': expected an integer from 3600 to 2592000, got ${JSON.stringify(lifetime ?? null)}.`,
    );
  }
  return lifetime;
}

function checkMetadata(metadata: unknown): Record<string, string> | null {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new HttpError(400, "invalid_type", "metadata must be an object");
  }
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw new HttpError(400, "invalid_metadata", "metadata may hold at most 16 pairs");
  for (const [key, value] of entries) {
    if (key.length > 64 || typeof value !== "string" || value.length > 512) {
      throw new HttpError(
        400,
        "invalid_metadata",
        "metadata keys are at most 64 characters, values strings of at most 512",
      );
    }
  }
  return metadata as Record<string, string>;
}

/** OpenAI's Files and Batches API, as far as batch work uses it. Mounted at /openai (base URL …/openai/v1). */
export class OpenAIEmulation implements ProviderEmulation {
  readonly name = "openai";
  readonly router = new Router();
  readonly files = new FileStore();
  readonly batches = new Map<string, OpenAIBatch>();
  /**
   * OpenAI's enqueued-token limit per model, or null for none: a batch that would take the model's running batches
   * past it fails validation with `token_limit_exceeded`, as at OpenAI.
   */
  enqueuedTokenLimit: number | null = null;

  constructor(private readonly context: EmulatorContext) {
    this.router
      .add("POST", "/v1/files", (c) => this.uploadFile(c.request, c.response))
      .add("GET", "/v1/files", (c) => this.listFiles(c.url, c.response))
      .add("GET", "/v1/files/:id", (c) => sendJson(c.response, 200, this.fileObject(this.file(c.params.id))))
      .add("DELETE", "/v1/files/:id", (c) => {
        const file = this.file(c.params.id);
        this.files.delete(file.id);
        sendJson(c.response, 200, { id: file.id, object: "file", deleted: true });
      })
      .add("GET", "/v1/files/:id/content", (c) =>
        sendLines(c.response, this.files.contentLines(this.file(c.params.id))),
      )
      .add("POST", "/v1/batches", (c) => this.createBatch(c.request, c.response))
      .add("GET", "/v1/batches", (c) => this.listBatches(c.url, c.response))
      .add("GET", "/v1/batches/:id", (c) =>
        sendJson(c.response, 200, this.batchObject(this.batch(c.params.id))),
      )
      .add("POST", "/v1/batches/:id/cancel", (c) => {
        const batch = this.batch(c.params.id);
        const phase = batch.sim.phase(this.context.clock.now());
        // A batch that has ended cannot be cancelled: 409, as OpenAI answers (a cancelling one is shown as is).
        if (TERMINAL_PHASES.has(phase)) {
          sendJson(c.response, 409, {
            error: {
              message: `Cannot cancel a batch with status '${phase}'.`,
              type: "invalid_request_error",
              param: null,
              code: null,
            },
          });
          return;
        }
        batch.sim.cancel(this.context.clock.now());
        sendJson(c.response, 200, this.batchObject(batch));
      });
  }

  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const key = /^Bearer (\S+)/.exec(request.headers.authorization ?? "")?.[1];
    if (key !== undefined && acceptsKey(key)) return null;
    const message =
      key === undefined
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth."
        : `Incorrect API key provided: ${redactKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    return {
      status: 401,
      body: this.errorBody(401, "invalid_api_key", message),
    };
  }

  errorBody(status: number, code: string, message: string) {
    return openAIErrorBody(status, code, message);
  }

  batchCount(): number {
    return this.batches.size;
  }

  private fileObject(file: StoredFile) {
    return fileObject(file, this.files.sizeOf(file));
  }

  private file(id: string | undefined): StoredFile {
    const file = id ? this.files.get(id) : undefined;
    if (!file) throw new HttpError(404, "not_found", `No such File object: ${id}`);
    return file;
  }

  private batch(id: string | undefined): OpenAIBatch {
    const batch = id ? this.batches.get(id) : undefined;
    if (!batch) throw new HttpError(404, "not_found", `No batch found with id '${id}'.`);
    return batch;
  }

  private async uploadFile(request: IncomingMessage, response: import("node:http").ServerResponse) {
    const parts = parseMultipart(
      await readBody(request, MAX_FILE_BYTES + 1024 * 1024),
      request.headers["content-type"],
    );
    const filePart = parts.find((part) => part.name === "file");
    const field = (name: string) => parts.find((part) => part.name === name)?.data.toString("utf8");
    const purpose = field("purpose");
    for (const part of parts) {
      if (!/^(file|purpose|expires_after\[(anchor|seconds)\])$/.test(part.name))
        throw new HttpError(400, "unknown_parameter", `Unknown parameter: '${part.name}'.`);
    }
    if (!filePart)
      throw new HttpError(400, "missing_required_parameter", "Missing required parameter: 'file'.");
    if (!purpose || !FILE_PURPOSES.has(purpose)) {
      throw new HttpError(400, "invalid_value", `Invalid value for 'purpose': ${purpose ?? "(missing)"}.`);
    }
    const filename = filePart.filename ?? "upload";
    if (purpose === "batch" && !filename.toLowerCase().endsWith(".jsonl")) {
      // OpenAI's answer carries no code.
      throw new HttpError(400, "", "Invalid file format for Batch API. Must be .jsonl");
    }
    if (filePart.data.length > MAX_FILE_BYTES)
      throw new HttpError(400, "file_too_large", "Files may be at most 200 MB.");
    const anchor = field("expires_after[anchor]");
    const lifetimeText = field("expires_after[seconds]");
    const lifetime =
      anchor === undefined && lifetimeText === undefined
        ? undefined
        : checkExpiration(
            { anchor, seconds: lifetimeText === undefined ? undefined : Number(lifetimeText) },
            "expires_after",
          );
    const file = this.files.put({
      id: makeId("file-"),
      filename,
      purpose,
      createdAt: this.context.clock.now(),
      bytes: filePart.data.length,
      data: filePart.data,
      lifetimeSeconds: lifetime ?? (purpose === "batch" ? BATCH_FILE_LIFETIME_S : null),
    } as OpenAIFile);
    sendJson(response, 200, this.fileObject(file));
  }

  /** `GET /v1/files?purpose&limit&order&after`: a page of files, newest first unless `order=asc`. */
  private listFiles(url: URL, response: import("node:http").ServerResponse) {
    const query = url.searchParams;
    const limitText = query.get("limit");
    const limit = limitText === null ? 10_000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new HttpError(
        400,
        "invalid_value",
        `Invalid 'limit': expected an integer from 1 to 10000, got ${JSON.stringify(limitText)}.`,
      );
    }
    const order = query.get("order") ?? "desc";
    if (order !== "asc" && order !== "desc") {
      throw new HttpError(400, "invalid_value", `Invalid value for 'order': expected 'asc' or 'desc'.`);
    }
    const purpose = query.get("purpose");
    // Stored in upload order, which is creation order.
    let files = this.files.list().filter((file) => purpose === null || file.purpose === purpose);
    if (order === "desc") files = files.reverse();
    const after = query.get("after");
    let start = 0;
    if (after !== null) {
      const index = files.findIndex((file) => file.id === after);
      if (index === -1)
        throw new HttpError(400, "invalid_value", `Invalid value for 'after': no file '${after}'.`);
      start = index + 1;
    }
    const data = files.slice(start, start + limit).map((file) => this.fileObject(file));
    sendJson(response, 200, {
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: start + limit < files.length,
    });
  }

  private async createBatch(request: IncomingMessage, response: import("node:http").ServerResponse) {
    const body = (await readJson(request)) as Record<string, unknown>;
    if (body === null || typeof body !== "object" || Array.isArray(body))
      throw new HttpError(400, "invalid_type", "The body must be a JSON object.");
    for (const key of Object.keys(body)) {
      // UNVERIFIED wording for this endpoint; it is the newer endpoints' answer to an unknown parameter.
      if (!CREATE_BATCH_PARAMS.has(key))
        throw new HttpError(400, "unknown_parameter", `Unknown parameter: '${key}'.`);
    }
    const outputLifetimeSeconds = checkExpiration(body.output_expires_after, "output_expires_after");
    const inputFileId = body.input_file_id;
    if (typeof inputFileId !== "string") {
      throw new HttpError(400, "missing_required_parameter", "Missing required parameter: 'input_file_id'.");
    }
    const endpoint = body.endpoint;
    if (typeof endpoint !== "string" || !ENDPOINTS.has(endpoint)) {
      throw new HttpError(400, "invalid_value", `Invalid value for 'endpoint': ${String(endpoint)}.`);
    }
    if (body.completion_window !== "24h") {
      throw new HttpError(
        400,
        "invalid_value",
        "Invalid value for 'completion_window': only '24h' is supported.",
      );
    }
    const metadata = checkMetadata(body.metadata);
    const file = this.file(inputFileId);
    if (file.purpose !== "batch") {
      throw new HttpError(400, "invalid_file", `File ${file.id} has purpose '${file.purpose}', not 'batch'.`);
    }
    const parsed = parseBatchInput(file.data?.toString("utf8") ?? "", {
      endpoint,
      fateOf: this.context.fateOf,
      maxRequests: MAX_REQUESTS,
    });
    const id = makeId("batch_");
    const enqueuedTokens = parsed.requests.reduce(
      (sum, request) => sum + estimateTokens(request.promptText),
      0,
    );
    const error = parsed.error ?? this.tokenLimitError(parsed.requests[0]?.model, enqueuedTokens);
    const sim = new SimulatedBatch(id, parsed.requests, this.context.clock.now(), this.context.timing, error);
    const batch: OpenAIBatch = {
      sim,
      endpoint,
      inputFileId,
      metadata,
      outputLifetimeSeconds,
      enqueuedTokens: error ? 0 : enqueuedTokens,
    };
    this.batches.set(id, batch);
    sendJson(response, 200, this.batchObject(batch));
  }

  private tokenLimitError(model: string | undefined, tokens: number) {
    const limit = this.enqueuedTokenLimit;
    if (limit === null || model === undefined) return null;
    const now = this.context.clock.now();
    let enqueued = 0;
    for (const batch of this.batches.values()) {
      if (batch.sim.requests[0]?.model === model && !TERMINAL_PHASES.has(batch.sim.phase(now))) {
        enqueued += batch.enqueuedTokens;
      }
    }
    if (enqueued + tokens <= limit) return null;
    return {
      code: "token_limit_exceeded",
      message:
        `Enqueued token limit reached for ${model} in organization org-emulator. Limit: ${limit} enqueued tokens. ` +
        "Please try again once some in_progress batches have been completed.",
    };
  }

  private listBatches(url: URL, response: import("node:http").ServerResponse) {
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? 20) || 20));
    const after = url.searchParams.get("after");
    const newestFirst = [...this.batches.values()].reverse();
    const start = after ? newestFirst.findIndex((batch) => batch.sim.id === after) + 1 : 0;
    const page = newestFirst.slice(start, start + limit);
    const data = page.map((batch) => this.batchObject(batch));
    sendJson(response, 200, {
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: start + limit < newestFirst.length,
    });
  }

  /** Creates the output and error files the first time a batch is seen finished. */
  private ensureResultFiles(batch: OpenAIBatch, now: number): void {
    if (batch.outputFileId !== undefined || batch.errorFileId !== undefined) return;
    const sim = batch.sim;
    const counts = sim.counts(now);
    const finishedAt = now;
    const linesFor = (which: "output" | "error") => () => this.resultLines(batch, which, finishedAt);
    if (counts.succeeded > 0) {
      batch.outputFileId = makeId("file-");
      this.files.put({
        id: batch.outputFileId,
        filename: `${sim.id}_output.jsonl`,
        purpose: "batch_output",
        createdAt: now,
        bytes: -1,
        lines: linesFor("output"),
        ...(batch.outputLifetimeSeconds === null ? {} : { lifetimeSeconds: batch.outputLifetimeSeconds }),
      } as OpenAIFile);
    }
    if (counts.total - counts.succeeded > 0) {
      batch.errorFileId = makeId("file-");
      this.files.put({
        id: batch.errorFileId,
        filename: `${sim.id}_error.jsonl`,
        purpose: "batch_output",
        createdAt: now,
        bytes: -1,
        lines: linesFor("error"),
        ...(batch.outputLifetimeSeconds === null ? {} : { lifetimeSeconds: batch.outputLifetimeSeconds }),
      } as OpenAIFile);
    }
  }

  private *resultLines(batch: OpenAIBatch, which: "output" | "error", now: number): Iterable<string> {
    for (const index of batch.sim.resultOrder()) {
      const request = batch.sim.requests[index];
      if (!request) continue;
      const seed = `${batch.sim.id.slice("batch_".length)}${index.toString(36)}`;
      const entry = openAIResultLine(request, batch.sim.outcome(index, now), batch.endpoint, now, seed);
      if (entry && entry.file === which) yield entry.line;
    }
  }

  /** The batch as OpenAI's API shows it. Unset fields are left out (the published schema does not allow null). */
  batchObject(batch: OpenAIBatch) {
    const now = this.context.clock.now();
    const sim = batch.sim;
    const phase = sim.phase(now);
    const milestones = sim.milestones(now);
    const counts = sim.counts(now);
    if (TERMINAL_PHASES.has(phase) && phase !== "failed") this.ensureResultFiles(batch, now);
    const at = (key: keyof typeof milestones) =>
      milestones[key] === undefined ? {} : { [`${key}_at`]: seconds(milestones[key] as number) };
    const object: Record<string, unknown> = {
      id: sim.id,
      object: "batch",
      endpoint: batch.endpoint,
      model: sim.requests[0]?.model ?? "unknown",
      input_file_id: batch.inputFileId,
      completion_window: "24h",
      status: phase,
      created_at: seconds(sim.createdAt),
      expires_at: seconds(sim.expiresAt),
      ...at("in_progress"),
      ...at("finalizing"),
      ...at("completed"),
      ...at("failed"),
      ...at("expired"),
      ...at("cancelling"),
      ...at("cancelled"),
      request_counts: {
        total: phase === "failed" ? 0 : counts.total,
        completed: counts.succeeded,
        failed: counts.failed,
      },
      metadata: batch.metadata,
    };
    if (batch.outputFileId) object.output_file_id = batch.outputFileId;
    if (batch.errorFileId) object.error_file_id = batch.errorFileId;
    if (phase === "failed" && sim.validationError) {
      const { code, message, line, param } = sim.validationError;
      object.errors = { object: "list", data: [{ code, message, param: param ?? null, line: line ?? null }] };
    }
    if (phase === "completed") {
      batch.usage ??= this.usageOf(sim, now);
      object.usage = batch.usage;
    }
    return object;
  }

  private usageOf(sim: SimulatedBatch, now: number): Record<string, unknown> {
    let input = 0;
    let output = 0;
    sim.requests.forEach((_, index) => {
      const outcome = sim.outcome(index, now);
      if (outcome.kind === "succeeded") {
        input += outcome.completion.inputTokens;
        output += outcome.completion.outputTokens;
      }
    });
    return {
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + output,
    };
  }
}
