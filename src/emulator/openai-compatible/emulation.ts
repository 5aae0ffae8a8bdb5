import { copyFileSync, linkSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { estimateTokens } from "../completion.js";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { eachRequest, type Phase, type SimRequest, SimulatedBatch, TERMINAL_PHASES } from "../engine.js";
import { FileStore, makeId, placedLines, type StoredFile } from "../files.js";
import {
  type Handler,
  HttpError,
  type MultipartPart,
  parseMultipart,
  type RouteContext,
  Router,
  readBody,
  readJson,
  sendJson,
  sendLines,
} from "../http.js";
import { checkExpiry, checkMetadata, type ExpiryRange, uploadExpiry } from "./checks.js";
import {
  type InputOptions,
  type InputTotals,
  type ParsedInput,
  parseBatchInput,
  parseStoredInput,
} from "./input.js";
import { openAIResultRecord } from "./lines.js";

/** A batch as an OpenAI-style emulation holds it. */
export interface OpenAICompatibleBatch {
  sim: SimulatedBatch;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  /** Seconds after their creation that the output and error files expire, when the creator asked. */
  outputExpiresAfterSeconds?: number;
  outputFileId?: string;
  errorFileId?: string;
  usage?: Record<string, unknown>;
  /** Prompt tokens the batch holds in the enqueued-token queue while it runs. */
  enqueuedTokens: number;
  /** What the requests that succeed use, counted when the input was read (an input kept on disk). */
  succeededUsage?: InputTotals["succeeded"];
}

/** What a dialect of the protocol accepts, checked on every upload and batch creation. */
export interface ProtocolRules {
  endpoints: ReadonlySet<string>;
  filePurposes: ReadonlySet<string>;
  maxRequests: number;
  maxFileBytes: number;
  /** Fields a batch creation may carry; any other is refused as unrecognised. */
  createFields: ReadonlySet<string>;
  /** Where uploads may set `expires_after` and batches `output_expires_after`; neither is taken without it. */
  fileExpiry?: ExpiryRange;
  /** How problems of the input file are named, its lines' urls matched, and its bodies' request kinds checked. */
  input?: Pick<InputOptions, "codes" | "urlMatches" | "shapes">;
}

/** When a batch expires, and whether it already fails for its completion window. */
export interface WindowCheck {
  /** The batch's own deadline; the emulator's timing when absent. */
  expiresAfterMs?: number;
  /** Fails the batch at validation (Azure: "If you set any other value than 24h your job will fail"). */
  problem?: { code: string; message: string };
}

type Json = Record<string, unknown>;

/** The fields of a batch creation every dialect takes. */
export const BATCH_FIELDS = ["input_file_id", "endpoint", "completion_window", "metadata"] as const;
/** The fields of a batch creation where output files may expire (OpenAI, Azure). */
export const EXPIRING_BATCH_FIELDS = [...BATCH_FIELDS, "output_expires_after"] as const;
/** The file purposes of OpenAI's Files API (Azure's v1 API takes the same). */
export const OPENAI_FILE_PURPOSES = [
  "assistants",
  "batch",
  "fine-tune",
  "vision",
  "user_data",
  "evals",
] as const;

const seconds = (ms: number) => Math.floor(ms / 1000);
const DAY_MS = 24 * 60 * 60_000;

/**
 * OpenAI's Files and Batches protocol, as OpenAI serves it; Groq and Azure extend it with what they do
 * differently (paths, auth, ids, windows, shapes). Everything a batch does over time is the shared SimulatedBatch.
 */
export abstract class OpenAICompatibleEmulation implements ProviderEmulation {
  abstract readonly name: string;
  readonly router = new Router();
  readonly files: FileStore;
  /**
   * Batch input files read when they were uploaded (as the provider processes an upload), for the batch endpoint
   * their lines name: a batch created from one with that endpoint takes its requests as read, rather than reading
   * the file again at creation. Dropped when the file is deleted or used.
   */
  private readonly uploadedInputs = new Map<
    string,
    { endpoint: string; fates: number; input: ParsedInput }
  >();
  readonly batches = new Map<string, OpenAICompatibleBatch>();
  /**
   * The enqueued-token limit per model, or null for none: a batch that would take the model's running batches
   * past it fails validation with `token_limit_exceeded`, as at OpenAI.
   */
  enqueuedTokenLimit: number | null = null;
  protected abstract readonly rules: ProtocolRules;
  /** False where the provider lets a batch run past its deadline (Azure). */
  protected readonly slowBatchesExpire: boolean = true;

  constructor(protected readonly context: EmulatorContext) {
    this.files = new FileStore(context.storage);
  }

  abstract checkAuth(
    request: IncomingMessage,
    acceptsKey: (key: string) => boolean,
  ): { status: number; body: unknown } | null;

  abstract errorBody(status: number, code: string, message: string): unknown;

  batchCount(): number {
    return this.batches.size;
  }

  /** Serves the Files and Batches routes under `prefix` (e.g. "/v1"). */
  protected mount(prefix: string): void {
    const checked =
      (handler: Handler): Handler =>
      (c) => {
        this.checkRequest(c);
        return handler(c);
      };
    this.router
      .add(
        "POST",
        `${prefix}/files`,
        checked((c) => this.uploadFile(c)),
      )
      .add(
        "GET",
        `${prefix}/files`,
        checked((c) => this.listFiles(c)),
      )
      .add(
        "GET",
        `${prefix}/files/:id`,
        checked((c) => sendJson(c.response, 200, this.fileObject(this.file(c.params.id), c))),
      )
      .add(
        "DELETE",
        `${prefix}/files/:id`,
        checked((c) => this.deleteFile(c)),
      )
      .add(
        "GET",
        `${prefix}/files/:id/content`,
        checked((c) => sendLines(c.response, this.files.contentLines(this.file(c.params.id)))),
      )
      .add(
        "POST",
        `${prefix}/batches`,
        checked((c) => this.createBatch(c)),
      )
      .add(
        "GET",
        `${prefix}/batches`,
        checked((c) => this.listBatches(c)),
      )
      .add(
        "GET",
        `${prefix}/batches/:id`,
        checked((c) => this.sendBatch(c, this.batch(c.params.id))),
      )
      .add(
        "POST",
        `${prefix}/batches/:id/cancel`,
        checked((c) => {
          const batch = this.batch(c.params.id);
          const phase = batch.sim.phase(this.context.clock.now());
          // A batch that has ended cannot be cancelled (a cancelling one is shown as it is).
          if (TERMINAL_PHASES.has(phase)) {
            throw new HttpError(409, "", `Cannot cancel a batch with status '${phase}'.`);
          }
          batch.sim.cancel(this.context.clock.now());
          this.sendBatch(c, batch);
        }),
      );
  }

  // ---- what a dialect may change ----

  /** Refuses a request the provider would (Azure: a missing api-version). */
  protected checkRequest(_c: RouteContext): void {}

  protected newFileId(): string {
    return makeId("file-");
  }

  protected newBatchId(): string {
    return makeId("batch_");
  }

  /** The deadline a `completion_window` gives; only "24h" at OpenAI. */
  protected completionWindow(value: unknown): WindowCheck {
    if (value !== "24h") {
      throw new HttpError(
        400,
        "invalid_value",
        "Invalid value for 'completion_window': only '24h' is supported.",
      );
    }
    return {};
  }

  /** Refuses an upload before it is stored (Azure: its file quota). */
  protected checkUpload(_parts: readonly MultipartPart[]): void {}

  protected fileTooLarge(): HttpError {
    return new HttpError(
      400,
      "file_too_large",
      `Files may be at most ${Math.round(this.rules.maxFileBytes / 1024 / 1024)} MB.`,
    );
  }

  /**
   * The input file's requests, or the problem that fails the batch at validation. An upload kept on disk stays
   * there: the batch reads each request from its own link to the file (deleting the upload leaves it), so that
   * results are generated from the stored file and no request is held in memory.
   */
  protected parseInput(file: StoredFile, endpoint: string): ParsedInput {
    const storage = this.context.storage;
    if (file.path && storage) {
      const own = storage.newPath("batch-input.jsonl");
      try {
        linkSync(file.path, own);
      } catch {
        copyFileSync(file.path, own);
      }
      const read = this.uploadedInputs.get(file.id);
      this.uploadedInputs.delete(file.id);
      if (read && read.endpoint === endpoint && read.fates === this.context.fatesVersion?.()) {
        read.input.stored?.relocate(own);
        return read.input;
      }
      return parseStoredInput(own, this.inputOptions(endpoint));
    }
    return parseBatchInput(file.data?.toString("utf8") ?? "", this.inputOptions(endpoint));
  }

  private inputOptions(endpoint: string): InputOptions {
    return {
      endpoint,
      fateOf: this.context.fateOf,
      maxRequests: this.rules.maxRequests,
      ...this.rules.input,
    };
  }

  /** Reads a batch input file kept on disk as it is uploaded, for the endpoint its first line names. */
  private readUploadedInput(file: StoredFile): void {
    const fates = this.context.fatesVersion?.();
    if (!file.path || fates === undefined || file.purpose !== "batch") return;
    let endpoint: unknown;
    for (const line of placedLines(file.path)) {
      try {
        endpoint = (JSON.parse(line.text) as Json).url;
      } catch {
        // Reported when a batch is created from it.
      }
      break;
    }
    if (typeof endpoint !== "string" || !this.rules.endpoints.has(endpoint)) return;
    const input = parseStoredInput(file.path, this.inputOptions(endpoint));
    this.uploadedInputs.set(file.id, { endpoint, fates, input });
  }

  /** A file object as the provider shows it. */
  protected fileObject(file: StoredFile, _c: RouteContext): Json {
    return {
      ...this.fileFields(file),
      expires_at: seconds(file.expiresAt ?? file.createdAt + 30 * DAY_MS),
      status: "processed",
    };
  }

  /** The fields every dialect's file object has. */
  protected fileFields(file: StoredFile): Json {
    return {
      id: file.id,
      object: "file",
      bytes: this.files.sizeOf(file),
      created_at: seconds(file.createdAt),
      filename: file.filename,
      purpose: file.purpose,
    };
  }

  /** A page of a list; the first/last IDs of an empty page are `empty`. */
  protected listBody(data: Json[], hasMore: boolean, empty: string | null): Json {
    return {
      object: "list",
      data,
      first_id: data[0]?.id ?? empty,
      last_id: data.at(-1)?.id ?? empty,
      has_more: hasMore,
    };
  }

  /** The batch object as the provider shows it, from the one OpenAI shows. */
  protected presentBatch(object: Json, _batch: OpenAICompatibleBatch, _c: RouteContext): Json {
    return object;
  }

  /** A result line as the provider writes it, from the one OpenAI writes (`at`: when the file was made). */
  protected decorateResult(record: Json, _request: SimRequest, _seed: string, _at: number): Json {
    return record;
  }

  /** Whether a finished batch gets an error file even when nothing failed (Azure: a 0-byte one). */
  protected readonly errorFileAlways: boolean = false;

  // ---- the protocol ----

  protected file(id: string | undefined): StoredFile {
    const file = id ? this.files.get(id) : undefined;
    if (!file) throw new HttpError(404, "not_found", `No such File object: ${id}`);
    return file;
  }

  protected batch(id: string | undefined): OpenAICompatibleBatch {
    const batch = id ? this.batches.get(id) : undefined;
    if (!batch) throw new HttpError(404, "not_found", `No batch found with id '${id}'.`);
    return batch;
  }

  private async uploadFile(c: RouteContext): Promise<void> {
    const { request, response } = c;
    const parts = parseMultipart(
      await readBody(request, this.rules.maxFileBytes + 1024 * 1024),
      request.headers["content-type"],
    );
    const filePart = parts.find((part) => part.name === "file");
    const purpose = parts.find((part) => part.name === "purpose")?.data.toString("utf8");
    for (const part of parts) {
      if (!/^(file|purpose|expires_after(\[(anchor|seconds)\]|\.(anchor|seconds)))$/.test(part.name))
        throw new HttpError(400, "unknown_parameter", `Unknown parameter: '${part.name}'.`);
    }
    if (!filePart)
      throw new HttpError(400, "missing_required_parameter", "Missing required parameter: 'file'.");
    if (!purpose || !this.rules.filePurposes.has(purpose)) {
      throw new HttpError(400, "invalid_value", `Invalid value for 'purpose': ${purpose ?? "(missing)"}.`);
    }
    if (purpose === "batch" && !(filePart.filename ?? "").toLowerCase().endsWith(".jsonl")) {
      // The answer carries no code.
      throw new HttpError(400, "", "Invalid file format for Batch API. Must be .jsonl");
    }
    if (filePart.data.length > this.rules.maxFileBytes) throw this.fileTooLarge();
    const expiry = uploadExpiry(parts);
    const range = this.rules.fileExpiry;
    const expiresAfter =
      expiry !== undefined && range ? checkExpiry(expiry, range, "expires_after") : undefined;
    this.checkUpload(parts);
    const now = this.context.clock.now();
    const file = this.files.put({
      id: this.newFileId(),
      filename: filePart.filename ?? "upload.jsonl",
      purpose,
      createdAt: now,
      bytes: filePart.data.length,
      data: filePart.data,
      ...(expiresAfter === undefined ? {} : { expiresAt: now + expiresAfter * 1000 }),
    });
    this.readUploadedInput(file);
    sendJson(response, 200, this.fileObject(file, c));
  }

  /** `GET /files?purpose&limit&order&after`: a page of files, newest first unless `order=asc`. */
  private listFiles(c: RouteContext): void {
    const query = c.url.searchParams;
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
      throw new HttpError(400, "invalid_value", "Invalid value for 'order': expected 'asc' or 'desc'.");
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
    const data = files.slice(start, start + limit).map((file) => this.fileObject(file, c));
    sendJson(c.response, 200, this.listBody(data, start + limit < files.length, null));
  }

  private deleteFile(c: RouteContext): void {
    const file = this.file(c.params.id);
    this.files.delete(file.id);
    this.uploadedInputs.delete(file.id);
    sendJson(c.response, 200, { id: file.id, object: "file", deleted: true });
  }

  private async createBatch(c: RouteContext): Promise<void> {
    const body = (await readJson(c.request)) as Json | null;
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw new HttpError(400, "invalid_request", "The request body must be a JSON object.");
    for (const key of Object.keys(body)) {
      if (!this.rules.createFields.has(key))
        throw new HttpError(400, "unknown_parameter", `Unrecognized request argument supplied: ${key}`);
    }
    const inputFileId = body.input_file_id;
    if (typeof inputFileId !== "string") {
      throw new HttpError(400, "missing_required_parameter", "Missing required parameter: 'input_file_id'.");
    }
    const endpoint = body.endpoint;
    if (typeof endpoint !== "string" || !this.rules.endpoints.has(endpoint)) {
      throw new HttpError(400, "invalid_value", `Invalid value for 'endpoint': ${String(endpoint)}.`);
    }
    const window = this.completionWindow(body.completion_window);
    const metadata = checkMetadata(body.metadata);
    const range = this.rules.fileExpiry;
    const outputExpiry = range
      ? checkExpiry(body.output_expires_after, range, "output_expires_after")
      : undefined;
    const file = this.file(inputFileId);
    if (file.purpose !== "batch") {
      throw new HttpError(400, "invalid_file", `File ${file.id} has purpose '${file.purpose}', not 'batch'.`);
    }
    const parsed = this.parseInput(file, endpoint);
    const id = this.newBatchId();
    const enqueuedTokens =
      parsed.totals?.promptTokens ??
      sumOf(eachRequest(parsed.requests), (request) => estimateTokens(request.promptText));
    const error =
      window.problem ?? parsed.error ?? this.tokenLimitError(parsed.requests.at(0)?.model, enqueuedTokens);
    const sim = new SimulatedBatch(
      id,
      parsed.requests,
      this.context.clock.now(),
      this.context.timing,
      error,
      {
        ...(window.expiresAfterMs === undefined ? {} : { expiresAfterMs: window.expiresAfterMs }),
        slowBatchesExpire: this.slowBatchesExpire,
      },
    );
    const batch: OpenAICompatibleBatch = {
      sim,
      endpoint,
      inputFileId,
      completionWindow: String(body.completion_window),
      metadata,
      enqueuedTokens: error ? 0 : enqueuedTokens,
      ...(parsed.totals ? { succeededUsage: parsed.totals.succeeded } : {}),
      ...(outputExpiry === undefined ? {} : { outputExpiresAfterSeconds: outputExpiry }),
    };
    this.batches.set(id, batch);
    this.sendBatch(c, batch);
  }

  private tokenLimitError(model: string | undefined, tokens: number) {
    const limit = this.enqueuedTokenLimit;
    if (limit === null || model === undefined) return null;
    const now = this.context.clock.now();
    let enqueued = 0;
    for (const batch of this.batches.values()) {
      if (batch.sim.requests.at(0)?.model === model && !TERMINAL_PHASES.has(batch.sim.phase(now))) {
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

  /** Newest first, in pages of `limit` (1–100, default 20) after the batch named by `after`. */
  protected listBatches(c: RouteContext): void {
    const limit = Math.min(100, Math.max(1, Number(c.url.searchParams.get("limit") ?? 20) || 20));
    const after = c.url.searchParams.get("after");
    const newestFirst = [...this.batches.values()].reverse();
    const start = after ? newestFirst.findIndex((batch) => batch.sim.id === after) + 1 : 0;
    const page = newestFirst.slice(start, start + limit).map((batch) => this.batchView(batch, c));
    sendJson(c.response, 200, this.listBody(page, start + limit < newestFirst.length, null));
  }

  protected sendBatch(c: RouteContext, batch: OpenAICompatibleBatch): void {
    sendJson(c.response, 200, this.batchView(batch, c));
  }

  protected batchView(batch: OpenAICompatibleBatch, c: RouteContext): Json {
    return this.presentBatch(this.batchObject(batch), batch, c);
  }

  /** Creates the output and error files the first time a batch is seen finished. */
  private ensureResultFiles(batch: OpenAICompatibleBatch, now: number): void {
    if (batch.outputFileId !== undefined || batch.errorFileId !== undefined) return;
    const counts = batch.sim.counts(now);
    const make = (which: "output" | "error") => {
      const id = this.newFileId();
      const expiresAfter = batch.outputExpiresAfterSeconds;
      this.files.put({
        id,
        filename: `${batch.sim.id}_${which}.jsonl`,
        purpose: "batch_output",
        createdAt: now,
        bytes: -1,
        lines: () => this.resultLines(batch, which, now),
        ...(expiresAfter === undefined ? {} : { expiresAt: now + expiresAfter * 1000 }),
      });
      return id;
    };
    if (counts.succeeded > 0) batch.outputFileId = make("output");
    if (counts.total - counts.succeeded > 0 || this.errorFileAlways) batch.errorFileId = make("error");
  }

  private *resultLines(
    batch: OpenAICompatibleBatch,
    which: "output" | "error",
    now: number,
  ): Iterable<string> {
    const { sim } = batch;
    for (const index of sim.resultOrder()) {
      const request = sim.requests.at(index);
      if (!request) continue;
      const seed = `${sim.id.slice("batch_".length)}${index.toString(36)}`;
      const entry = openAIResultRecord(request, sim.outcome(index, now), batch.endpoint, now, seed);
      if (entry && entry.file === which)
        yield JSON.stringify(this.decorateResult(entry.record, request, seed, now));
    }
  }

  /** The batch as OpenAI's API shows it. Unset fields are left out (the published schema does not allow null). */
  private batchObject(batch: OpenAICompatibleBatch): Json {
    const now = this.context.clock.now();
    const sim = batch.sim;
    const phase = sim.phase(now);
    const milestones = sim.milestones(now);
    const counts = sim.counts(now);
    if (TERMINAL_PHASES.has(phase) && phase !== "failed") this.ensureResultFiles(batch, now);
    const at = (key: Phase) =>
      milestones[key] === undefined ? {} : { [`${key}_at`]: seconds(milestones[key] as number) };
    const object: Json = {
      id: sim.id,
      object: "batch",
      endpoint: batch.endpoint,
      model: sim.requests.at(0)?.model ?? "unknown",
      input_file_id: batch.inputFileId,
      completion_window: batch.completionWindow,
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
      batch.usage ??= usageOf(sim, now, batch.succeededUsage);
      object.usage = batch.usage;
    }
    return object;
  }
}

/**
 * What a completed batch's succeeded requests used, in the Responses API's terms (as OpenAI reports it on the
 * batch): counted when the input was read if it was, else from every request's outcome.
 */
function usageOf(
  sim: SimulatedBatch,
  now: number,
  counted: InputTotals["succeeded"] | undefined,
): Record<string, unknown> {
  let input = counted?.inputTokens ?? 0;
  let output = counted?.outputTokens ?? 0;
  if (!counted) {
    for (let index = 0; index < sim.requests.length; index += 1) {
      const outcome = sim.outcome(index, now);
      if (outcome.kind === "succeeded") {
        input += outcome.completion.inputTokens;
        output += outcome.completion.outputTokens;
      }
    }
  }
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

function sumOf<T>(items: Iterable<T>, value: (item: T) => number): number {
  let sum = 0;
  for (const item of items) sum += value(item);
  return sum;
}
