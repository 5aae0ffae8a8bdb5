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

interface OpenAIBatch {
  sim: SimulatedBatch;
  endpoint: string;
  inputFileId: string;
  metadata: Record<string, string> | null;
  outputFileId?: string;
  errorFileId?: string;
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
  return { error: { message, type, param: null, code } };
}

function fileObject(file: StoredFile, bytes: number) {
  return {
    id: file.id,
    object: "file",
    bytes,
    created_at: seconds(file.createdAt),
    expires_at: seconds(file.createdAt) + 30 * 24 * 3600,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
  };
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
      .add("GET", "/v1/files", (c) => this.listFiles(c.response))
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
    const purpose = parts.find((part) => part.name === "purpose")?.data.toString("utf8");
    if (!filePart)
      throw new HttpError(400, "missing_required_parameter", "Missing required parameter: 'file'.");
    if (!purpose || !FILE_PURPOSES.has(purpose)) {
      throw new HttpError(400, "invalid_value", `Invalid value for 'purpose': ${purpose ?? "(missing)"}.`);
    }
    if (filePart.data.length > MAX_FILE_BYTES)
      throw new HttpError(400, "file_too_large", "Files may be at most 200 MB.");
    const file = this.files.put({
      id: makeId("file-"),
      filename: filePart.filename ?? "upload.jsonl",
      purpose,
      createdAt: this.context.clock.now(),
      bytes: filePart.data.length,
      data: filePart.data,
    });
    sendJson(response, 200, this.fileObject(file));
  }

  private listFiles(response: import("node:http").ServerResponse) {
    const data = this.files.list().map((file) => this.fileObject(file));
    sendJson(response, 200, {
      object: "list",
      data,
      first_id: data[0]?.id ?? "",
      last_id: data.at(-1)?.id ?? "",
      has_more: false,
    });
  }

  private async createBatch(request: IncomingMessage, response: import("node:http").ServerResponse) {
    const body = (await readJson(request)) as Record<string, unknown>;
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
      });
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
      });
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
      const { code, message, line } = sim.validationError;
      object.errors = { object: "list", data: [{ code, message, param: null, line: line ?? null }] };
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
