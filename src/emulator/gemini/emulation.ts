import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { SimulatedBatch, TERMINAL_PHASES } from "../engine.js";
import { HttpError, type RouteContext, Router, readBody, sendJson } from "../http.js";
import { OutputOverrides } from "../output-overrides.js";
import { PromptCache } from "../prompt-cache.js";
import {
  EMBEDDING_MODELS,
  type EmbedRequest,
  embedResponse,
  parseEmbeddingsFile,
  parseInlineEmbeddings,
} from "./embeddings.js";
import { googleError, invalid, notFound } from "./errors.js";
import { GeminiFiles } from "./files.js";
import { type BatchInput, fieldsOf, parseInlineRequests, parseInputFile, RequestProblem } from "./input.js";
import { type BatchKind, type GeminiBatch, operationObject, stateOf } from "./objects.js";
import { pageOf } from "./pages.js";
import { generateContentResponse, inlinedResponse, outputOf, responsesFileLine } from "./results.js";

/** "Request payload size exceeds the limit: 20971520 bytes." */
const MAX_REQUEST_BYTES = 20 * 1024 * 1024;
/** "JOB_STATE_EXPIRED: The job has expired because it was running or pending for more than 48 hours." */
const EXPIRES_AFTER_MS = 48 * 60 * 60_000;
/** Batch mode allows 100 concurrent batch requests per project. */
const MAX_CONCURRENT_BATCHES = 100;
const BATCH_FIELDS = [
  "model",
  "displayName",
  "inputConfig",
  "priority",
  "webhookConfig",
  // Output only: accepted and ignored, as the API does.
  "name",
  "output",
  "createTime",
  "endTime",
  "updateTime",
  "batchStats",
  "state",
] as const;
const CREATE_FIELDS = ["batch"] as const;
const INPUT_CONFIG_FIELDS = ["fileName", "requests"] as const;
/** Model families that run in batch mode; anything else is not found, as the API says for unknown models. */
const BATCH_MODELS = /^(gemini|gemma)-[a-z0-9.-]+$/i;
/** What each kind of batch is created by, named in the API's messages. */
const METHODS: Record<BatchKind, { method: string; request: string }> = {
  generate: { method: "batchGenerateContent", request: "BatchGenerateContentRequest" },
  embed: { method: "asyncBatchEmbedContent", request: "AsyncBatchEmbedContentRequest" },
};

const batchId = () => {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(36), (byte) => alphabet[byte % alphabet.length]).join("");
};

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _ of request) {
    // discard
  }
}

/**
 * The Gemini API's batch mode (v1beta, "mldev"): batches as long-running operations created by
 * `models/{model}:batchGenerateContent`, with inline requests or an uploaded JSONL file, and the Files API's
 * resumable upload and media download. Mounted at /gemini: @google/genai's `httpOptions.baseUrl` is
 * `<emulator>/gemini`, and every path carries the API version, as at generativelanguage.googleapis.com.
 */
export class GeminiEmulation implements ProviderEmulation {
  readonly name = "gemini";
  readonly router = new Router();
  readonly files: GeminiFiles;
  /** By name (`batches/<id>`), oldest first. */
  readonly batches = new Map<string, GeminiBatch>();
  /** How many batches may be pending or running at once; tests may lower it. */
  maxConcurrentBatches = MAX_CONCURRENT_BATCHES;
  /** The body of the last create call, as received (tests read it to check what Relay sent). */
  lastCreateBody: unknown = null;
  /** Output markers tests set per key for the next batch that holds it (e.g. bad JSON, then good). */
  readonly outputs = new OutputOverrides();
  private readonly promptCache = new PromptCache();

  constructor(private readonly context: EmulatorContext) {
    this.files = new GeminiFiles(context.clock, `/${this.name}`);
    const files = this.files;
    this.router
      .add("POST", "/v1beta/models/:model:batchGenerateContent", (c) => this.create(c, "generate"))
      .add("POST", "/v1beta/models/:model:asyncBatchEmbedContent", (c) => this.create(c, "embed"))
      .add("GET", "/v1beta/batches", (c) => this.list(c))
      .add("POST", "/v1beta/batches/:id:cancel", (c) => this.cancel(c))
      .add("GET", "/v1beta/batches/:id", (c) =>
        sendJson(c.response, 200, this.view(this.batch(c.params.id), true)),
      )
      .add("DELETE", "/v1beta/batches/:id", (c) => this.remove(c))
      .add("POST", "/upload/v1beta/files", (c) => files.upload(c))
      .add("GET", "/v1beta/files", (c) => files.list(c))
      .add("GET", "/v1beta/files/:id:download", (c) => files.download(c))
      .add("GET", "/download/v1beta/files/:id:download", (c) => files.download(c))
      .add("GET", "/v1beta/files/:id", (c) => files.metadata(c))
      .add("DELETE", "/v1beta/files/:id", (c) => files.remove(c));
  }

  /** `x-goog-api-key` (or `?key=`). No key: 403; a wrong one: 400 API_KEY_INVALID, as Google APIs answer. */
  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const header = request.headers["x-goog-api-key"];
    const fromHeader = typeof header === "string" && header.trim() !== "" ? header.trim() : undefined;
    const key =
      fromHeader ?? new URL(request.url ?? "/", "http://emulator").searchParams.get("key") ?? undefined;
    if (key === undefined) {
      return {
        status: 403,
        body: googleError(
          403,
          "PERMISSION_DENIED",
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
      };
    }
    if (acceptsKey(key)) return null;
    return {
      status: 400,
      body: googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" },
        },
      ]),
    };
  }

  errorBody(status: number, code: string, message: string) {
    return googleError(status, code, message);
  }

  batchCount(): number {
    return this.batches.size;
  }

  private batch(id: string | undefined): GeminiBatch {
    const batch = this.batches.get(`batches/${id}`);
    if (!batch) throw notFound("Requested entity was not found.");
    return batch;
  }

  private running(): number {
    const now = this.context.clock.now();
    return [...this.batches.values()].filter((batch) => !TERMINAL_PHASES.has(batch.sim.phase(now))).length;
  }

  private async create({ request, response, params }: RouteContext, kind: BatchKind): Promise<void> {
    const modelId = params.model?.replace(/^models\//, "") ?? "";
    const embeds = EMBEDDING_MODELS.test(modelId);
    if (kind === "embed" ? !embeds : !BATCH_MODELS.test(modelId) || embeds) {
      await drain(request);
      throw notFound(
        `models/${modelId} is not found for API version v1beta, or is not supported for ${METHODS[kind].method}. ` +
          "Call ListModels to see the list of available models and their supported methods.",
      );
    }
    const model = `models/${modelId}`;
    let text: string;
    try {
      text = (await readBody(request, MAX_REQUEST_BYTES)).toString("utf8");
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      await drain(request);
      throw invalid(`Request payload size exceeds the limit: ${MAX_REQUEST_BYTES} bytes.`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw invalid("Invalid JSON payload received.");
    }
    this.lastCreateBody = body;
    let input: { input: BatchInput; embeds: EmbedRequest[] };
    let fields: Record<string, unknown>;
    try {
      fields = fieldsOf(fieldsOf(body, CREATE_FIELDS, "").batch, BATCH_FIELDS, "batch");
      input = this.inputOf(fields, model, kind);
    } catch (error) {
      if (error instanceof RequestProblem) throw invalid(error.message);
      throw error;
    }
    if (this.running() >= this.maxConcurrentBatches) {
      throw new HttpError(
        429,
        "RESOURCE_EXHAUSTED",
        `Too many batches pending or running (at most ${this.maxConcurrentBatches} at once). Wait for some to end.`,
      );
    }
    const name = `batches/${batchId()}`;
    const config = fields.inputConfig as Record<string, unknown>;
    const inputFile = (config.fileName as string | undefined) ?? null;
    const batch: GeminiBatch = {
      sim: new SimulatedBatch(
        name,
        input.input.requests,
        this.context.clock.now(),
        this.context.timing,
        input.input.validationError,
        { expiresAfterMs: EXPIRES_AFTER_MS },
      ),
      kind,
      name,
      model,
      displayName: fields.displayName as string,
      priority: Number(fields.priority ?? 0),
      inputFile,
      metadata: input.input.metadata,
      lineErrors: input.input.lineErrors,
      answers: input.input.answers,
      embeds: input.embeds,
    };
    this.batches.set(name, batch);
    sendJson(response, 200, this.view(batch, true));
  }

  /** The batch's fields and requests, checked as the API does (RequestProblem for a refusal). */
  private inputOf(
    fields: Record<string, unknown>,
    model: string,
    kind: BatchKind,
  ): { input: BatchInput; embeds: EmbedRequest[] } {
    const { request } = METHODS[kind];
    if (typeof fields.displayName !== "string" || fields.displayName === "") {
      throw new RequestProblem(`* ${request}.batch.display_name: display_name is required.`);
    }
    if (fields.model !== undefined && fields.model !== model) {
      throw new RequestProblem(`* ${request}.batch.model: ${String(fields.model)} is not ${model}.`);
    }
    const priority = fields.priority;
    if (priority !== undefined && !/^-?\d+$/.test(String(priority))) {
      throw new RequestProblem(`Invalid value at 'batch.priority' (TYPE_INT64), ${JSON.stringify(priority)}`);
    }
    const config = fieldsOf(fields.inputConfig, INPUT_CONFIG_FIELDS, "batch.input_config");
    fields.inputConfig = config;
    if ((config.fileName === undefined) === (config.requests === undefined)) {
      throw new RequestProblem(
        `* ${request}.batch.input_config: give exactly one of file_name and requests.`,
      );
    }
    const options = {
      model,
      fateOf: this.context.fateOf,
      outputs: this.outputs,
      cache: this.promptCache,
      now: this.context.clock.now(),
    };
    const file = config.fileName === undefined ? undefined : this.files.find(String(config.fileName));
    if (config.fileName !== undefined && !file)
      throw new RequestProblem(
        `* ${request}.batch.input_config.file_name: ${String(config.fileName)} not found.`,
      );
    if (kind === "embed") {
      return file
        ? parseEmbeddingsFile(this.files.contentOf(file), options)
        : parseInlineEmbeddings(config.requests, options);
    }
    const input = file
      ? parseInputFile(this.files.contentOf(file), options)
      : parseInlineRequests(config.requests, options);
    return { input, embeds: [] };
  }

  private list({ response, url }: RouteContext): void {
    const listed = [...this.batches.values()].map((batch) => ({
      name: batch.name,
      createdAt: batch.sim.createdAt,
      batch,
    }));
    // Without a page size the API lists nothing (and no next page): clients must ask for a size.
    const page = pageOf(listed, url.searchParams, { defaultSize: null, max: 1000 });
    const operations = (page?.items ?? []).map((item) => this.view(item.batch, false));
    sendJson(response, 200, {
      ...(operations.length > 0 ? { operations } : {}),
      ...(page?.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  }

  private async cancel({ request, response, params }: RouteContext): Promise<void> {
    const batch = this.batch(params.id);
    const text = (await readBody(request, 64 * 1024)).toString("utf8").trim();
    if (text !== "" && text !== "{}") throw invalid("The request body of a cancel must be empty.");
    const now = this.context.clock.now();
    const phase = batch.sim.phase(now);
    if (TERMINAL_PHASES.has(phase)) {
      throw new HttpError(400, "FAILED_PRECONDITION", `The batch has already ended (${stateOf(phase)}).`);
    }
    batch.sim.cancel(now);
    sendJson(response, 200, {});
  }

  /** Deleting forgets the batch (it is no longer listed or found); it does not cancel it. */
  private remove({ response, params }: RouteContext): void {
    this.batches.delete(this.batch(params.id).name);
    sendJson(response, 200, {});
  }

  /**
   * The batch as the API shows it now. A batch that succeeded or was cancelled carries its output: the responses
   * file (made the first time the batch is seen ended) or the inlined responses, which a listing leaves out.
   * An expired or failed batch has none.
   */
  private view(batch: GeminiBatch, withInlined: boolean) {
    const now = this.context.clock.now();
    const { phase, since } = batch.sim.phaseWithTime(now);
    const counts = batch.sim.counts(now);
    const hasOutput =
      phase === "completed" || (phase === "cancelled" && counts.succeeded + counts.failed > 0);
    let output: Record<string, unknown> | undefined;
    if (hasOutput && batch.inputFile) {
      output = { responsesFile: this.responsesFile(batch, since) };
    } else if (hasOutput) {
      const responses = withInlined
        ? {
            inlinedResponses: [...this.finishedOutputs(batch, since)].map(([index, out]) =>
              inlinedResponse(batch.metadata[index], out),
            ),
          }
        : {};
      output =
        batch.kind === "embed"
          ? { inlinedEmbedContentResponses: responses }
          : { inlinedResponses: responses };
    }
    return operationObject(batch, now, output);
  }

  /** The finished requests' outputs as of `at`, in the order the results list them (not request order). */
  private *finishedOutputs(
    batch: GeminiBatch,
    at: number,
  ): Generator<[number, { response: unknown } | { error: unknown }]> {
    const { sim } = batch;
    const seed = sim.id.slice("batches/".length, "batches/".length + 12);
    for (const index of sim.resultOrder()) {
      const request = sim.requests.at(index);
      if (!request) continue;
      const embed = batch.embeds[index];
      const respond =
        batch.kind === "embed" && embed
          ? () => embedResponse(embed)
          : (completion: Parameters<typeof generateContentResponse>[1]) =>
              generateContentResponse(
                request,
                completion,
                `${seed}${index.toString(36)}`,
                batch.answers[index],
              );
      const output = outputOf(sim.outcome(index, at), batch.lineErrors.get(index), respond);
      if (output) yield [index, output];
    }
  }

  private responsesFile(batch: GeminiBatch, settledAt: number): string {
    if (!batch.responsesFile) {
      const name = `files/batch-${batch.name.slice("batches/".length)}`;
      const requests = batch.sim.requests;
      const outputs = () => this.finishedOutputs(batch, settledAt);
      const lines = function* () {
        for (const [index, output] of outputs()) {
          const request = requests.at(index);
          if (request) yield responsesFileLine(request, output);
        }
      };
      this.files.putGenerated(name, lines, settledAt);
      batch.responsesFile = name;
    }
    return batch.responsesFile;
  }
}
