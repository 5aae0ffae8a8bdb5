import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { SimulatedBatch } from "../engine.js";
import {
  bearerKey,
  type Handler,
  HttpError,
  type RouteContext,
  Router,
  readJson,
  sendJson,
} from "../http.js";
import { DetailList, mistralErrorBody, ValidationFailure } from "./errors.js";
import { MistralFiles } from "./files.js";
import { checkCreateBody, type InputLine, parseBatchRequests, uuidParam } from "./input.js";
import { BATCH_STATUSES, batchJobObject, type MistralBatch, timelineOf } from "./objects.js";
import { Query } from "./query.js";
import { resultRecord } from "./results.js";

/** "A maximum limit of 1 million pending requests per workspace." */
const MAX_PENDING_REQUESTS = 1_000_000;
const DAY_MS = 24 * 60 * 60_000;

/** Validation failures answer 422 with their `detail` list; other errors take the server's usual path. */
function route(handler: Handler): Handler {
  return async (context) => {
    try {
      await handler(context);
    } catch (error) {
      if (!(error instanceof ValidationFailure) || context.response.headersSent) throw error;
      sendJson(context.response, 422, error.body());
    }
  };
}

/**
 * Mistral's Files and Batch Jobs APIs as far as batch work uses them. Mounted at /mistral: the SDK's `serverURL`
 * is `<origin>/mistral`, and every path starts with /v1 as at api.mistral.ai.
 */
export class MistralEmulation implements ProviderEmulation {
  readonly name = "mistral";
  readonly router = new Router();
  readonly files: MistralFiles;
  readonly batches = new Map<string, MistralBatch>();
  /** Pending requests a workspace may hold across its jobs; a job that would go past it is refused. */
  maxPendingRequests = MAX_PENDING_REQUESTS;

  constructor(private readonly context: EmulatorContext) {
    const files = new MistralFiles(context.clock, `/${this.name}`);
    this.files = files;
    const routes: [method: string, path: string, handler: Handler][] = [
      ["POST", "/v1/files", (c) => files.upload(c)],
      ["GET", "/v1/files", (c) => files.list(c)],
      ["GET", "/v1/files/:id", (c) => files.retrieve(c)],
      ["DELETE", "/v1/files/:id", (c) => files.delete(c)],
      ["GET", "/v1/files/:id/content", (c) => files.content(c)],
      ["GET", "/v1/files/:id/url", (c) => files.signedUrl(c)],
      ["GET", "/signed/:token", (c) => files.signedContent(c)],
      ["POST", "/v1/batch/jobs", (c) => this.createJob(c)],
      ["GET", "/v1/batch/jobs", (c) => this.listJobs(c)],
      ["GET", "/v1/batch/jobs/:id", (c) => this.getJob(c)],
      ["POST", "/v1/batch/jobs/:id/cancel", (c) => this.cancelJob(c)],
    ];
    for (const [method, path, handler] of routes) this.router.add(method, path, route(handler));
  }

  /** Bearer keys; a missing or refused one gets `{"detail": "Unauthorized"}` (a signed URL needs none). */
  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    if (request.url?.startsWith(`/${this.name}/signed/`)) return null;
    const key = bearerKey(request);
    return key !== undefined && acceptsKey(key) ? null : { status: 401, body: { detail: "Unauthorized" } };
  }

  errorBody(status: number, code: string, message: string) {
    return mistralErrorBody(status, code, message);
  }

  batchCount(): number {
    return this.batches.size;
  }

  private job(id: string | undefined): MistralBatch {
    const jobId = uuidParam(id, "job_id");
    const batch = this.batches.get(jobId);
    if (!batch) throw new HttpError(404, "not_found", `Batch job ${jobId} not found`);
    return batch;
  }

  private async createJob({ request, response }: RouteContext): Promise<void> {
    const details = new DetailList();
    const body = checkCreateBody(await readJson(request), details);
    const now = this.context.clock.now();
    let lines: Iterable<InputLine>;
    if (body.inputFiles) {
      const files = body.inputFiles.map((id) => this.files.get(id));
      for (const file of files) {
        if (file.purpose !== "batch") {
          throw new HttpError(400, "invalid_file", `File ${file.id} has purpose ${file.purpose}, not batch.`);
        }
      }
      lines = (function* (emulation) {
        for (const file of files) {
          let number = 0;
          for (const text of emulation.files.contentLines(file)) {
            number += 1;
            yield { text, where: `Line ${number} of file ${file.id}` };
          }
        }
      })(this);
    } else {
      lines = (body.requests ?? []).map((entry, index) => ({
        text: JSON.stringify({ custom_id: entry.customId, body: entry.body }),
        where: `Request ${index}`,
      }));
    }
    const parsed = parseBatchRequests(lines, {
      model: body.model,
      fateOf: this.context.fateOf,
      endpoint: body.endpoint,
    });
    if (this.pendingRequests(now) + parsed.requests.length > this.maxPendingRequests) {
      throw new HttpError(
        400,
        "too_many_pending_requests",
        `The workspace may hold at most ${this.maxPendingRequests} pending requests across its batch jobs.`,
      );
    }
    // The job's own timeout, counted on the emulator's day (timing.expiresAfterMs stands for 24 hours).
    const timing = {
      ...this.context.timing,
      expiresAfterMs: (this.context.timing.expiresAfterMs * body.timeoutHours * 3_600_000) / DAY_MS,
    };
    const sim = new SimulatedBatch(randomUUID(), parsed.requests, now, timing, parsed.error);
    const batch: MistralBatch = {
      sim,
      requests: parsed.requests,
      inputFiles: body.inputFiles ?? [],
      endpoint: body.endpoint,
      model: body.model ?? parsed.requests[0]?.model ?? "",
      metadata: body.metadata,
      inline: body.requests !== null,
      createdBy: creatorOf(request),
    };
    this.batches.set(sim.id, batch);
    sendJson(response, 200, this.view(batch, false));
  }

  private pendingRequests(now: number): number {
    let pending = 0;
    for (const batch of this.batches.values()) {
      if (timelineOf(batch.sim, now).settledAt === null) pending += batch.sim.counts(now).processing;
    }
    return pending;
  }

  /** `GET /v1/batch/jobs`: filters, `order_by` (-created), `page` from 0, `page_size` (100), and the `total`. */
  private listJobs({ request, response, url }: RouteContext): void {
    const details = new DetailList();
    const query = new Query(url.searchParams, details);
    const page = query.integer("page", 0, 0);
    const pageSize = query.integer("page_size", 100, 1);
    const model = query.string("model");
    const agentId = query.string("agent_id");
    const metadata = query.object("metadata");
    const createdAfter = query.dateTime("created_after");
    const createdByMe = query.boolean("created_by_me") ?? false;
    const statuses = query.list("status", BATCH_STATUSES);
    const order = query.choice("order_by", ["created", "-created"], "-created");
    details.throwIfAny();
    const now = this.context.clock.now();
    const me = creatorOf(request);
    const matching = [...this.batches.values()].filter((batch) => {
      if (model !== null && batch.model !== model) return false;
      if (agentId !== null) return false;
      if (createdAfter !== null && batch.sim.createdAt <= createdAfter) return false;
      if (createdByMe && batch.createdBy !== me) return false;
      if (statuses.length > 0 && !statuses.includes(timelineOf(batch.sim, now).status)) return false;
      if (metadata && !Object.entries(metadata).every(([key, value]) => batch.metadata?.[key] === value))
        return false;
      return true;
    });
    if (order === "-created") matching.reverse();
    const data = matching
      .slice(page * pageSize, (page + 1) * pageSize)
      .map((batch) => this.view(batch, false));
    sendJson(response, 200, { data, object: "list", total: matching.length });
  }

  /** `GET /v1/batch/jobs/{id}?inline=`: outputs are shown when asked for, or by default for an inline job. */
  private getJob({ response, params, url }: RouteContext): void {
    const details = new DetailList();
    const inline = new Query(url.searchParams, details).boolean("inline");
    details.throwIfAny();
    const batch = this.job(params.id);
    sendJson(response, 200, this.view(batch, inline ?? batch.inline));
  }

  private cancelJob({ response, params }: RouteContext): void {
    const batch = this.job(params.id);
    const now = this.context.clock.now();
    const { status } = timelineOf(batch.sim, now);
    if (status !== "QUEUED" && status !== "RUNNING" && status !== "CANCELLATION_REQUESTED") {
      throw new HttpError(
        400,
        "invalid_state",
        `Batch job ${batch.sim.id} has ended (${status}); it cannot be cancelled.`,
      );
    }
    batch.sim.cancel(now);
    sendJson(response, 200, this.view(batch, false));
  }

  /** The job as the API shows it now; its result files are made the first time it is seen ended. */
  private view(batch: MistralBatch, withOutputs: boolean) {
    const now = this.context.clock.now();
    const timeline = timelineOf(batch.sim, now);
    const ended = timeline.settledAt !== null && timeline.phase !== "failed";
    if (ended) this.makeResultFiles(batch, timeline.settledAt as number);
    const outputs =
      withOutputs && ended
        ? [...this.records(batch, timeline.settledAt as number)].map((entry) => entry.record)
        : null;
    return batchJobObject(batch, timeline, now, outputs);
  }

  private *records(batch: MistralBatch, at: number) {
    for (const index of batch.sim.resultOrder()) {
      const request = batch.requests[index];
      if (!request) continue;
      const entry = resultRecord(
        batch.sim.id,
        index,
        request,
        batch.sim.outcome(index, at),
        at,
        batch.endpoint,
      );
      if (entry) yield entry;
    }
  }

  private makeResultFiles(batch: MistralBatch, settledAt: number): void {
    if (batch.resultFilesMade) return;
    batch.resultFilesMade = true;
    // Result files list finished requests only: successes in one, failures in the other.
    const counts = batch.sim.counts(settledAt);
    const make = (which: "output" | "error", numLines: number) =>
      this.files.put({
        filename: `${batch.sim.id}_${which}.jsonl`,
        purpose: "batch",
        bytes: -1,
        lines: () => this.lines(batch, which, settledAt),
        sampleType: which === "output" ? "batch_result" : "batch_error",
        source: "mistral",
        mimetype: "application/jsonl",
        numLines,
        signature: null,
        expiresAt: null,
        visibility: "workspace",
      }).id;
    if (counts.succeeded > 0) batch.outputFileId = make("output", counts.succeeded);
    if (counts.failed > 0) batch.errorFileId = make("error", counts.failed);
  }

  private *lines(batch: MistralBatch, which: "output" | "error", at: number): Iterable<string> {
    for (const entry of this.records(batch, at)) if (entry.file === which) yield JSON.stringify(entry.record);
  }
}

/** A stable creator ID per API key, so that `created_by_me` works without keeping the key. */
function creatorOf(request: IncomingMessage): string {
  return createHash("sha256")
    .update(request.headers.authorization ?? "")
    .digest("hex")
    .slice(0, 16);
}
