import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import type { SimulatedBatch } from "../engine.js";
import { type Handler, HttpError, type RouteContext, Router, readBody, sendJson } from "../http.js";
import { redactXaiKey, xaiError } from "./errors.js";
import { parseAddBody } from "./input.js";
import { batchObject, requestMetadata, XaiBatch } from "./objects.js";
import { costTicks, resultRecord } from "./results.js";

/** "Each request to add batch requests has a maximum payload size of 25MB"; the decimal reading, the stricter. */
export const MAX_ADD_BYTES = 25_000_000;
const DEFAULT_PAGE = 100;
/** The largest page the emulator serves; the API's own maximum is UNVERIFIED. */
const MAX_PAGE = 1000;

/** One add call as received (tests read them to check what Relay sent). */
export interface AddCallRecord {
  batchId: string;
  ids: string[];
  bytes: number;
}

const keyOf = (request: IncomingMessage) => /^Bearer (\S+)/.exec(request.headers.authorization ?? "")?.[1];

function pageToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString("base64url");
}

function pageQuery(url: URL): { limit: number; offset: number } {
  const rawLimit = url.searchParams.get("limit");
  const limit = rawLimit === null ? DEFAULT_PAGE : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new HttpError(400, "invalid_argument", `limit: must be an integer from 1 to ${MAX_PAGE}`);
  }
  const token = url.searchParams.get("pagination_token");
  if (token === null || token === "") return { limit, offset: 0 };
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!match)
    throw new HttpError(400, "invalid_argument", "pagination_token: not a token this list gave out");
  return { limit, offset: Number(match[1]) };
}

/**
 * xAI's native Batch API (REST, as the official TypeScript SDK calls it). Mounted at /xai: the base URL is
 * `<emulator>/xai/v1`. Batches are created empty and filled by add calls; there is no status field, only counts.
 * Every answer's `date` header is the emulator's clock, which is what Relay compares `expire_time` with.
 */
export class XaiEmulation implements ProviderEmulation {
  readonly name = "xai";
  readonly router = new Router();
  /** Insertion order is creation order; the list shows newest first. */
  readonly batches = new Map<string, XaiBatch>();
  readonly addCalls: AddCallRecord[] = [];

  constructor(private readonly context: EmulatorContext) {
    this.router
      .add(
        "POST",
        "/v1/batches",
        this.route((c) => this.createBatch(c)),
      )
      .add(
        "GET",
        "/v1/batches",
        this.route((c) => this.listBatches(c)),
      )
      .add(
        "GET",
        "/v1/batches/:id",
        this.route((c) => sendJson(c.response, 200, this.objectOf(this.batch(c, false)))),
      )
      .add(
        "POST",
        "/v1/batches/:id",
        this.route((c) => this.cancelBatch(c)),
      )
      .add(
        "POST",
        "/v1/batches/:id/requests",
        this.route((c) => this.addRequests(c)),
      )
      .add(
        "GET",
        "/v1/batches/:id/requests",
        this.route((c) => this.listRequests(c)),
      )
      .add(
        "GET",
        "/v1/batches/:id/results",
        this.route((c) => this.listResults(c)),
      );
  }

  /** xAI refuses a wrong key with a 400 (UNVERIFIED for a missing one, answered the same way here). */
  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const key = keyOf(request);
    if (key !== undefined && acceptsKey(key)) return null;
    const message =
      key === undefined
        ? "No API key provided. You can obtain an API key from https://console.x.ai."
        : `Incorrect API key provided: ${redactXaiKey(key)}. You can obtain an API key from https://console.x.ai.`;
    return { status: 400, body: xaiError(400, message) };
  }

  errorBody(status: number, _code: string, message: string) {
    return xaiError(status, message);
  }

  batchCount(): number {
    return this.batches.size;
  }

  /** Stamps every answer with the emulator's clock and a request ID, as the API's answers carry them. */
  private route(handler: (context: RouteContext) => Promise<void> | void): Handler {
    return (context) => {
      context.response.setHeader("date", new Date(this.context.clock.now()).toUTCString());
      context.response.setHeader("x-request-id", randomUUID());
      return handler(context);
    };
  }

  private batch(context: RouteContext, cancelSuffix: boolean): XaiBatch {
    const raw = context.params.id ?? "";
    const id = cancelSuffix ? raw.slice(0, -":cancel".length) : raw;
    if ((cancelSuffix && !raw.endsWith(":cancel")) || (!cancelSuffix && raw.includes(":"))) {
      throw new HttpError(404, "not_found", `No route for ${context.request.method} ${context.url.pathname}`);
    }
    const batch = this.batches.get(id);
    if (!batch) throw new HttpError(404, "not_found", "Batch not found");
    return batch;
  }

  private objectOf(batch: XaiBatch) {
    const now = this.context.clock.now();
    let ticks = 0;
    for (const slot of batch.slots.values()) {
      const outcome = batch.outcome(slot, now);
      if (outcome.kind === "succeeded") ticks += costTicks(batch.request(slot), outcome.completion);
    }
    return batchObject(batch, now, ticks);
  }

  private async createBatch({ request, response }: RouteContext) {
    const body = await this.jsonBody(request, 64 * 1024);
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new HttpError(400, "invalid_argument", "The body must be a JSON object");
    }
    const fields = body as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (key !== "name" && key !== "input_file_id") {
        throw new HttpError(400, "invalid_argument", `unknown field "${key}"`);
      }
    }
    if (typeof fields.name !== "string" || fields.name.trim() === "") {
      throw new HttpError(400, "invalid_argument", "name: is required");
    }
    if (fields.input_file_id !== undefined) {
      throw new HttpError(400, "invalid_argument", "input_file_id: file-based batches are not emulated");
    }
    const key = keyOf(request) ?? "";
    const apiKeyId = createHash("sha256").update(key).digest("hex").slice(0, 32);
    const batch = new XaiBatch(
      `batch_${randomUUID()}`,
      fields.name,
      this.context.clock.now(),
      apiKeyId,
      this.context.timing,
    );
    this.batches.set(batch.id, batch);
    sendJson(response, 200, this.objectOf(batch));
  }

  private listBatches({ url, response }: RouteContext) {
    const { limit, offset } = pageQuery(url);
    const newestFirst = [...this.batches.values()].reverse();
    const page = newestFirst.slice(offset, offset + limit);
    const next = offset + limit < newestFirst.length ? pageToken(offset + limit) : null;
    sendJson(response, 200, { batches: page.map((batch) => this.objectOf(batch)), pagination_token: next });
  }

  private cancelBatch(context: RouteContext) {
    const batch = this.batch(context, true);
    batch.cancel(this.context.clock.now());
    sendJson(context.response, 200, this.objectOf(batch));
  }

  private async addRequests(context: RouteContext) {
    const batch = this.batch(context, false);
    const raw = await readBody(context.request, MAX_ADD_BYTES);
    const now = this.context.clock.now();
    // UNVERIFIED: how the API refuses requests for a batch that was cancelled or has expired.
    if (batch.cancelTime !== null) {
      throw new HttpError(
        400,
        "failed_precondition",
        `Batch ${batch.id} was cancelled; it takes no more requests`,
      );
    }
    if (now >= batch.expiresAt) {
      throw new HttpError(
        400,
        "failed_precondition",
        `Batch ${batch.id} has expired; it takes no more requests`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new HttpError(400, "invalid_argument", "The body is not valid JSON");
    }
    const requests = parseAddBody(body, {
      taken: new Set(batch.slots.keys()),
      newId: () => randomUUID(),
      fateOf: this.context.fateOf,
    });
    if (requests.length > 0) batch.add(requests, now);
    this.addCalls.push({
      batchId: batch.id,
      ids: requests.map((request) => request.customId),
      bytes: raw.length,
    });
    sendJson(context.response, 200, {});
  }

  private listRequests(context: RouteContext) {
    const batch = this.batch(context, false);
    const { limit, offset } = pageQuery(context.url);
    const ids = [...batch.slots.keys()];
    const now = this.context.clock.now();
    const page = ids.slice(offset, offset + limit).map((id) => requestMetadata(batch, id, now));
    const next = offset + limit < ids.length ? pageToken(offset + limit) : null;
    sendJson(context.response, 200, { batch_request_metadata: page, pagination_token: next });
  }

  /**
   * Results of the requests that have finished, in no particular order (newest add call first, each shuffled). A
   * page is a window of `limit` requests in that fixed order holding the results of those that produced one, so a
   * page may be empty (all cancelled, say) with more to follow: the harder case for a reader (UNVERIFIED which way
   * xAI pages).
   */
  private listResults(context: RouteContext) {
    const batch = this.batch(context, false);
    const { limit, offset } = pageQuery(context.url);
    const now = this.context.clock.now();
    const results: Record<string, unknown>[] = [];
    let position = 0;
    for (const slot of batch.resultSlots()) {
      if (position >= offset + limit) break;
      if (position++ < offset) continue;
      const segment = batch.segments[slot.segment] as SimulatedBatch;
      const record = resultRecord(
        batch.request(slot),
        batch.outcome(slot, now),
        segment.validatedAt,
        `${batch.id}/${slot.segment}/${slot.index}`,
      );
      if (record) results.push(record);
    }
    const more = offset + limit < batch.slots.size;
    sendJson(context.response, 200, { results, pagination_token: more ? pageToken(offset + limit) : null });
  }

  private async jsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
    const raw = await readBody(request, limit);
    try {
      return JSON.parse(raw.toString("utf8"));
    } catch {
      throw new HttpError(400, "invalid_argument", "The body is not valid JSON");
    }
  }
}
