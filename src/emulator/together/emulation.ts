import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { SimulatedBatch } from "../engine.js";
import { type Handler, HttpError, type RouteContext, Router, readJson, sendJson } from "../http.js";
import { openAIErrorBody } from "../openai-compatible/errors.js";
import { parseBatchInput } from "../openai-compatible/input.js";
import { MAX_FILE_BYTES, TogetherFiles } from "./files.js";
import { CHAT_COMPLETIONS, togetherResultLine } from "./lines.js";
import { batchJobObject, progressOf, type TogetherBatch, timelineOf } from "./objects.js";
import { TOGETHER_CHAT_SHAPE } from "./shape.js";

const MAX_REQUESTS = 50_000;

/** Batch endpoints answer errors as `{"error": "…"}` (BatchErrorResponse), unlike the rest of the API. */
function batchRoute(handler: Handler): Handler {
  return async (context) => {
    try {
      await handler(context);
    } catch (error) {
      if (!(error instanceof HttpError) || context.response.headersSent) throw error;
      sendJson(context.response, error.status, { error: error.message });
    }
  };
}

/**
 * Together AI's Files and Batches APIs as far as batch work uses them. Mounted at /together (base URL
 * …/together/v1); the presigned upload URLs it hands out live under /together/upload/.
 */
export class TogetherEmulation implements ProviderEmulation {
  readonly name = "together";
  readonly router = new Router();
  readonly files: TogetherFiles;
  readonly batches = new Map<string, TogetherBatch>();

  constructor(private readonly context: EmulatorContext) {
    this.files = new TogetherFiles(context.clock, `/${this.name}`);
    const files = this.files;
    this.router
      .add("POST", "/v1/files", (c) => files.requestUpload(c))
      .add("PUT", "/upload/:token", (c) => files.receiveBytes(c))
      .add("POST", "/v1/files/upload", (c) => files.uploadMultipart(c))
      .add("GET", "/v1/files", (c) => files.list(c.response))
      .add("GET", "/v1/files/:id", (c) => files.retrieve(c.response, c.params.id))
      .add("DELETE", "/v1/files/:id", (c) => files.delete(c.response, c.params.id))
      .add("GET", "/v1/files/:id/content", (c) => files.content(c.response, c.params.id))
      .add(
        "POST",
        "/v1/batches",
        batchRoute((c) => this.createBatch(c)),
      )
      .add(
        "GET",
        "/v1/batches",
        batchRoute((c) => this.listBatches(c.response)),
      )
      .add(
        "GET",
        "/v1/batches/:id",
        batchRoute((c) => this.sendBatch(c.response, this.batch(c.params.id))),
      )
      .add(
        "POST",
        "/v1/batches/:id/cancel",
        batchRoute((c) => this.cancelBatch(c)),
      );
  }

  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const path = new URL(request.url ?? "/", "http://emulator").pathname;
    // A presigned upload URL is its own authorisation; the SDK sends no key with it.
    if (path.startsWith(`/${this.name}/upload/`)) return null;
    const key = /^Bearer (\S+)/.exec(request.headers.authorization ?? "")?.[1];
    if (key !== undefined && acceptsKey(key)) return null;
    const message =
      "Invalid API key provided. You can find your API key at https://api.together.ai/settings/api-keys.";
    const batches = path.startsWith(`/${this.name}/v1/batches`);
    return {
      status: 401,
      body: batches ? { error: message } : this.errorBody(401, "invalid_api_key", message),
    };
  }

  /** ErrorData, the shape of every error outside the batch endpoints. */
  errorBody(status: number, code: string, message: string) {
    return openAIErrorBody(status, code, message);
  }

  batchCount(): number {
    return this.batches.size;
  }

  private batch(id: string | undefined): TogetherBatch {
    const batch = id ? this.batches.get(id) : undefined;
    if (!batch) throw new HttpError(404, "not_found", `Batch job ${id} not found`);
    return batch;
  }

  private async createBatch({ request, response }: RouteContext): Promise<void> {
    const body = (await readJson(request)) as Record<string, unknown> | null;
    if (!body || typeof body !== "object")
      throw new HttpError(400, "invalid_request", "The body must be a JSON object");
    const { endpoint, input_file_id: inputFileId, completion_window: window, model_id: modelId } = body;
    if (typeof endpoint !== "string") throw new HttpError(400, "invalid_request", "endpoint is required");
    if (endpoint !== CHAT_COMPLETIONS) {
      throw new HttpError(400, "invalid_request", `endpoint ${endpoint} is not supported by the emulator`);
    }
    if (typeof inputFileId !== "string")
      throw new HttpError(400, "invalid_request", "input_file_id is required");
    // Together documents 24h as the only window; other values are refused here (the real answer is UNVERIFIED).
    if (window !== undefined && window !== "24h") {
      throw new HttpError(400, "invalid_request", "completion_window must be 24h");
    }
    if (modelId !== undefined && typeof modelId !== "string")
      throw new HttpError(400, "invalid_request", "model_id must be a string");
    const file = this.files.get(inputFileId);
    if (file.purpose !== "batch-api") {
      throw new HttpError(
        400,
        "invalid_request",
        `File ${file.id} has purpose ${file.purpose}, not batch-api`,
      );
    }
    if (!file.uploaded) throw new HttpError(400, "invalid_request", `File ${file.id} has not been uploaded`);
    if (file.bytes > MAX_FILE_BYTES)
      throw new HttpError(400, "invalid_request", "The input file exceeds 100 MB");

    const parsed = parseBatchInput(file.data?.toString("utf8") ?? "", {
      endpoint: null,
      fateOf: this.context.fateOf,
      maxRequests: MAX_REQUESTS,
      // Lines name no endpoint; their bodies are the batch's chat completions.
      bodyEndpoint: CHAT_COMPLETIONS,
      shapes: { chat: TOGETHER_CHAT_SHAPE },
    });
    const sim = new SimulatedBatch(
      randomUUID(),
      parsed.requests,
      this.context.clock.now(),
      this.context.timing,
      parsed.error,
    );
    const batch: TogetherBatch = {
      sim,
      inputFileId,
      endpoint,
      fileSizeBytes: file.bytes,
      modelId: modelId ?? sim.requests.at(0)?.model,
      userId: userIdOf(request),
    };
    this.batches.set(sim.id, batch);
    sendJson(response, 201, { job: this.view(batch) });
  }

  private listBatches(response: ServerResponse): void {
    sendJson(
      response,
      200,
      [...this.batches.values()].reverse().map((batch) => this.view(batch)),
    );
  }

  private sendBatch(response: ServerResponse, batch: TogetherBatch): void {
    sendJson(response, 200, this.view(batch));
  }

  private cancelBatch({ response, params }: RouteContext): void {
    const batch = this.batch(params.id);
    const { status } = timelineOf(batch.sim, this.context.clock.now());
    if (status !== "VALIDATING" && status !== "IN_PROGRESS") {
      throw new HttpError(
        400,
        "invalid_state",
        `Batch job ${batch.sim.id} cannot be cancelled: its status is ${status}`,
      );
    }
    batch.sim.cancel(this.context.clock.now());
    this.sendBatch(response, batch);
  }

  /** The batch as the API shows it now; its result files are made the first time it is seen ended. */
  private view(batch: TogetherBatch) {
    const now = this.context.clock.now();
    const timeline = timelineOf(batch.sim, now);
    if (timeline.settledAt !== null && timeline.phase !== "failed")
      this.makeResultFiles(batch, timeline.settledAt);
    return batchJobObject(batch, timeline, progressOf(batch.sim, timeline, now));
  }

  private makeResultFiles(batch: TogetherBatch, settledAt: number): void {
    if (batch.resultFilesMade) return;
    batch.resultFilesMade = true;
    const counts = batch.sim.counts(settledAt);
    const make = (which: "output" | "error") => {
      const lines = () => this.resultLines(batch, which, settledAt);
      let bytes = 0;
      for (const line of lines()) bytes += Buffer.byteLength(line) + 1;
      const file = this.files.put({
        filename: `${batch.sim.id}_${which}.jsonl`,
        purpose: "batch-generated",
        fileType: "jsonl",
        bytes,
        lines,
        uploaded: true,
      });
      return file.id;
    };
    if (counts.succeeded > 0) batch.outputFileId = make("output");
    if (counts.total > counts.succeeded) batch.errorFileId = make("error");
  }

  private *resultLines(batch: TogetherBatch, which: "output" | "error", at: number): Iterable<string> {
    const { sim } = batch;
    const prefix = sim.id.replaceAll("-", "").slice(0, 16);
    for (const index of sim.resultOrder()) {
      const request = sim.requests.at(index);
      if (!request) continue;
      const entry = togetherResultLine(request, sim.outcome(index, at), at, `${prefix}${index.toString(36)}`);
      if (entry?.file === which) yield entry.line;
    }
  }
}

/** A stable user ID per API key, so that batches show who created them without echoing the key. */
function userIdOf(request: IncomingMessage): string {
  const key = request.headers.authorization ?? "";
  return `user_${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}
