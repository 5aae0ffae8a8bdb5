import type { IncomingMessage } from "node:http";
import type { SimRequest } from "../engine.js";
import type { StoredFile } from "../files.js";
import { HttpError, type RouteContext, sendJson } from "../http.js";
import {
  BATCH_FIELDS,
  OpenAICompatibleEmulation,
  type ProtocolRules,
  type WindowCheck,
} from "../openai-compatible/emulation.js";
import { bearerRefusal } from "../openai-compatible/errors.js";
import { groqId } from "./ids.js";
import { groqResultLine } from "./results.js";
import { GROQ_CHAT_SHAPE } from "./shape.js";

type Json = Record<string, unknown>;

const HOUR_MS = 60 * 60_000;

/**
 * Groq's Files and Batches API: OpenAI's protocol under `/openai/v1` (mounted at /groq, so groq-sdk's baseURL is
 * `<origin>/groq`), chat completions only, completion windows of 24 hours to 7 days (the batch expires at the end
 * of its window), ULID-style IDs, and a batch list that answers every batch at once.
 */
export class GroqEmulation extends OpenAICompatibleEmulation {
  readonly name = "groq";
  protected readonly rules: ProtocolRules = {
    endpoints: new Set(["/v1/chat/completions"]),
    filePurposes: new Set(["batch"]),
    maxRequests: 50_000,
    maxFileBytes: 100_000_000,
    createFields: new Set(BATCH_FIELDS),
    input: { shapes: { chat: GROQ_CHAT_SHAPE } },
  };

  constructor(...args: ConstructorParameters<typeof OpenAICompatibleEmulation>) {
    super(...args);
    this.mount("/openai/v1");
  }

  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    return bearerRefusal(request, acceptsKey, () =>
      this.errorBody(401, "invalid_api_key", "Invalid API Key"),
    );
  }

  /** Groq's error body: OpenAI's without `param`. */
  errorBody(status: number, code: string, message: string) {
    const type = status >= 500 ? "internal_server_error" : "invalid_request_error";
    return { error: { message, type, code } };
  }

  protected override newFileId(): string {
    return groqId("file_", this.context.clock.now());
  }

  protected override newBatchId(): string {
    return groqId("batch_", this.context.clock.now());
  }

  /** "24h" to "7d", in hours or days; the batch expires when its window ends. */
  protected override completionWindow(value: unknown): WindowCheck {
    const match = typeof value === "string" ? /^(\d+)(h|d)$/.exec(value) : null;
    const hours = match ? Number(match[1]) * (match[2] === "d" ? 24 : 1) : Number.NaN;
    if (!(hours >= 24 && hours <= 7 * 24)) {
      throw new HttpError(
        400,
        "invalid_request_error",
        `completion_window must be a duration from 24h to 7d, got ${JSON.stringify(value ?? null)}`,
      );
    }
    return { expiresAfterMs: hours * HOUR_MS };
  }

  /** Groq's file object has neither `status` nor `expires_at`. */
  protected override fileObject(file: StoredFile): Json {
    return this.fileFields(file);
  }

  protected override listBody(data: Json[]): Json {
    return { object: "list", data };
  }

  /** Every batch, newest first: Groq's list takes no paging parameters. */
  protected override listBatches(c: RouteContext): void {
    const data = [...this.batches.values()].reverse().map((batch) => this.batchView(batch, c));
    sendJson(c.response, 200, this.listBody(data));
  }

  /** Groq's batch object is OpenAI's without `model` and `usage`. */
  protected override presentBatch(object: Json): Json {
    const { model: _, usage: __, ...rest } = object;
    return rest;
  }

  protected override decorateResult(record: Json, request: SimRequest, seed: string, at: number): Json {
    return groqResultLine(record, request, seed, at);
  }
}
