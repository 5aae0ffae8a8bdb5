import type { IncomingMessage } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { SimulatedBatch } from "../engine.js";
import { makeId } from "../files.js";
import {
  type Handler,
  HttpError,
  type RouteContext,
  Router,
  readBody,
  sendJson,
  sendLines,
} from "../http.js";
import { OutputOverrides } from "../output-overrides.js";
import { PromptCache } from "../prompt-cache.js";
import type { AnswerPlan } from "./answers.js";
import { anthropicError, newRequestId } from "./errors.js";
import { type CreateRequest, parseCreateBody } from "./input.js";
import { batchObject, processingStatus, resultLine } from "./objects.js";

/** 256 MB per create request; over it Anthropic answers 413 request_too_large. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 1000;

/**
 * Anthropic's Message Batches API. Mounted at /anthropic: the base URL is `<emulator>/anthropic` and paths carry
 * `/v1`, as at api.anthropic.com. Accepts `x-api-key` (the API's documented header) or `authorization: Bearer`
 * (what @anthropic-ai/sdk 1.x sends), and requires `anthropic-version`.
 */
export class AnthropicEmulation implements ProviderEmulation {
  readonly name = "anthropic";
  readonly router = new Router();
  /** The body of the last batch created, as received (tests read it to check what Relay sent). */
  lastCreated: { id: string; requests: CreateRequest[] } | null = null;
  /** Output markers tests set per custom_id for the next batch that holds it (e.g. bad JSON, then good). */
  readonly outputs = new OutputOverrides();
  /** Newest last; the list endpoint reverses it. */
  private readonly batches = new Map<string, SimulatedBatch>();
  /** How each request of each batch is answered, by batch ID and request index. */
  private readonly plans = new Map<string, AnswerPlan[]>();
  private readonly promptCache = new PromptCache();

  constructor(private readonly context: EmulatorContext) {
    this.router
      .add(
        "POST",
        "/v1/messages/batches",
        this.route((c) => this.createBatch(c)),
      )
      .add(
        "GET",
        "/v1/messages/batches",
        this.route((c) => this.listBatches(c)),
      )
      .add(
        "GET",
        "/v1/messages/batches/:id",
        this.route((c) => sendJson(c.response, 200, this.objectOf(this.batch(c), c))),
      )
      .add(
        "POST",
        "/v1/messages/batches/:id/cancel",
        this.route((c) => this.cancelBatch(c)),
      )
      .add(
        "DELETE",
        "/v1/messages/batches/:id",
        this.route((c) => this.deleteBatch(c)),
      )
      .add(
        "GET",
        "/v1/messages/batches/:id/results",
        this.route((c) => this.sendResults(c)),
      );
  }

  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const header = request.headers["x-api-key"];
    const key =
      (typeof header === "string" && header.trim() !== "" ? header.trim() : undefined) ??
      /^Bearer (\S+)/.exec(request.headers.authorization ?? "")?.[1];
    if (key === undefined) {
      return {
        status: 401,
        body: this.errorBody(401, "authentication_error", "x-api-key header is required"),
      };
    }
    if (!acceptsKey(key)) {
      return { status: 401, body: this.errorBody(401, "authentication_error", "invalid x-api-key") };
    }
    if (!request.headers["anthropic-version"]) {
      return {
        status: 400,
        body: this.errorBody(400, "invalid_request_error", "anthropic-version: header is required"),
      };
    }
    return null;
  }

  errorBody(status: number, code: string, message: string) {
    return anthropicError(status, code, message, newRequestId());
  }

  batchCount(): number {
    return this.batches.size;
  }

  /** Gives every response a `request-id` header, and errors the same id in their body. */
  private route(handler: (context: RouteContext) => Promise<void> | void): Handler {
    return async (context) => {
      const requestId = newRequestId();
      context.response.setHeader("request-id", requestId);
      try {
        await handler(context);
      } catch (error) {
        if (!(error instanceof HttpError) || context.response.headersSent) throw error;
        sendJson(
          context.response,
          error.status,
          anthropicError(error.status, error.code, error.message, requestId),
        );
      }
    };
  }

  private batch(context: RouteContext): SimulatedBatch {
    const id = context.params.id ?? "";
    const batch = this.batches.get(id);
    if (!batch) throw new HttpError(404, "not_found_error", `No Message Batch found with id '${id}'.`);
    return batch;
  }

  private objectOf(sim: SimulatedBatch, context: RouteContext) {
    const resultsUrl = `${context.origin}/${this.name}/v1/messages/batches/${sim.id}/results`;
    return batchObject(sim, this.context.clock.now(), resultsUrl);
  }

  private ended(sim: SimulatedBatch): boolean {
    return processingStatus(sim.phase(this.context.clock.now())) === "ended";
  }

  private async createBatch(context: RouteContext) {
    const text = (await readBody(context.request, MAX_BODY_BYTES)).toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, "invalid_request_error", "The request body is not valid JSON.");
    }
    const version = context.request.headers["anthropic-version"];
    const { requests, simRequests, plans } = parseCreateBody(body, {
      fateOf: this.context.fateOf,
      apiVersion: typeof version === "string" ? version : "2023-06-01",
      outputs: this.outputs,
      cache: this.promptCache,
      now: this.context.clock.now(),
    });
    const id = makeId("msgbatch_");
    const sim = new SimulatedBatch(id, simRequests, this.context.clock.now(), this.context.timing);
    this.batches.set(id, sim);
    this.plans.set(id, plans);
    this.lastCreated = { id, requests };
    sendJson(context.response, 200, this.objectOf(sim, context));
  }

  private listBatches(context: RouteContext) {
    const query = context.url.searchParams;
    const limit = query.has("limit") ? Number(query.get("limit")) : DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new HttpError(
        400,
        "invalid_request_error",
        `limit: Input should be an integer from 1 to ${MAX_PAGE}`,
      );
    }
    const afterId = query.get("after_id");
    const beforeId = query.get("before_id");
    if (afterId && beforeId) {
      throw new HttpError(400, "invalid_request_error", "Give at most one of after_id and before_id.");
    }
    const newestFirst = [...this.batches.values()].reverse();
    const position = (id: string, name: string) => {
      const index = newestFirst.findIndex((sim) => sim.id === id);
      if (index === -1)
        throw new HttpError(400, "invalid_request_error", `${name}: no Message Batch '${id}'`);
      return index;
    };
    let start = 0;
    let end = Math.min(limit, newestFirst.length);
    if (afterId) {
      start = position(afterId, "after_id") + 1;
      end = Math.min(start + limit, newestFirst.length);
    } else if (beforeId) {
      end = position(beforeId, "before_id");
      start = Math.max(0, end - limit);
    }
    const data = newestFirst.slice(start, end).map((sim) => this.objectOf(sim, context));
    sendJson(context.response, 200, {
      data,
      has_more: beforeId ? start > 0 : end < newestFirst.length,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    });
  }

  private cancelBatch(context: RouteContext) {
    const sim = this.batch(context);
    // UNVERIFIED: what the API answers for a batch that has already ended; a 400 is the likely shape.
    if (this.ended(sim)) {
      throw new HttpError(
        400,
        "invalid_request_error",
        `Message Batch ${sim.id} has already ended and cannot be canceled.`,
      );
    }
    sim.cancel(this.context.clock.now());
    sendJson(context.response, 200, this.objectOf(sim, context));
  }

  private deleteBatch(context: RouteContext) {
    const sim = this.batch(context);
    if (!this.ended(sim)) {
      throw new HttpError(
        400,
        "invalid_request_error",
        `Message Batch ${sim.id} is still processing; cancel it and wait for it to end before deleting it.`,
      );
    }
    this.batches.delete(sim.id);
    this.plans.delete(sim.id);
    sendJson(context.response, 200, { id: sim.id, type: "message_batch_deleted" });
  }

  private async sendResults(context: RouteContext) {
    const sim = this.batch(context);
    // UNVERIFIED: the status the API uses for results asked for too early (400 or 404); 400 here.
    if (!this.ended(sim)) {
      throw new HttpError(
        400,
        "invalid_request_error",
        `Message Batch ${sim.id} has not ended; its results are not ready.`,
      );
    }
    const now = this.context.clock.now();
    const suffix = sim.id.slice("msgbatch_".length);
    const plans = this.plans.get(sim.id) ?? [];
    const lines = function* () {
      for (const index of sim.resultOrder()) {
        const request = sim.requests.at(index);
        if (!request) continue;
        const seed = `${suffix}${index.toString(36)}`;
        const line = resultLine(request, sim.outcome(index, now), seed, plans[index]);
        if (line !== null) yield line;
      }
    };
    await sendLines(context.response, lines(), "application/binary");
  }
}
