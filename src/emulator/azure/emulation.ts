import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { SimRequest } from "../engine.js";
import type { StoredFile } from "../files.js";
import { HttpError, type MultipartPart, type RouteContext } from "../http.js";
import { OPENAI_CHAT_SHAPE } from "../openai-compatible/chat-shape.js";
import { uploadExpiry } from "../openai-compatible/checks.js";
import {
  EXPIRING_BATCH_FIELDS,
  OPENAI_FILE_PURPOSES,
  type OpenAICompatibleBatch,
  OpenAICompatibleEmulation,
  type ProtocolRules,
  type WindowCheck,
} from "../openai-compatible/emulation.js";
import { bearerKey } from "../openai-compatible/errors.js";
import type { ParsedInput } from "../openai-compatible/input.js";
import { OPENAI_RESPONSES_SHAPE } from "../openai-compatible/responses-shape.js";
import { azureErrorBody, INVALID_KEY_MESSAGE, MISSING_KEY_MESSAGE, RESOURCE_NOT_FOUND } from "./errors.js";
import { type AzureApiKind, azureBatchObject } from "./objects.js";
import { azureResultLine } from "./results.js";

type Json = Record<string, unknown>;

const DATED_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
/** Global batch first shipped in this api-version. */
const FIRST_BATCH_VERSION = "2024-07-01";
/** Both spellings Azure's samples use for the batch endpoint and the lines' url. */
const canonical = (path: string) => path.replace(/^\/v1(?=\/)/, "");

/**
 * Azure OpenAI global batch, mounted at /azure (so the resource endpoint is `<origin>/azure`): the v1 API under
 * `/openai/v1` (no api-version) and the versioned API under `/openai` (`?api-version=` on every request), with
 * `api-key` auth, Azure's shapes and error codes, a file quota, and jobs that run past their 24 hours.
 */
export class AzureEmulation extends OpenAICompatibleEmulation {
  readonly name = "azure";
  /** Files a resource may hold: without an expiry, and with one (global-batch docs: 500 and 10,000). */
  readonly fileQuota = { withoutExpiry: 500, withExpiry: 10_000 };
  protected readonly rules: ProtocolRules = {
    endpoints: new Set(["/v1/chat/completions", "/chat/completions", "/v1/responses", "/responses"]),
    filePurposes: new Set(OPENAI_FILE_PURPOSES),
    maxRequests: 100_000,
    maxFileBytes: 200_000_000,
    createFields: new Set(EXPIRING_BATCH_FIELDS),
    fileExpiry: { min: 1_209_600, max: 2_592_000 },
    input: {
      codes: {
        invalid_url: "url_mismatch",
        mismatched_model: "model_mismatch",
        too_many_requests: "too_many_tasks",
        missing_required_parameter: "invalid_request",
        invalid_method: "invalid_request",
      },
      urlMatches: (url, endpoint) => canonical(url) === canonical(endpoint),
      // Azure serves OpenAI's request bodies; embeddings are not a batch endpoint there.
      shapes: { chat: OPENAI_CHAT_SHAPE, responses: OPENAI_RESPONSES_SHAPE },
    },
  };
  /** "We don't expire the jobs that take longer": only requests fated to expire make a batch expire. */
  protected override readonly slowBatchesExpire = false;
  /** "Successful jobs will still generate an error_file_id, but it will be associated with an empty file." */
  protected override readonly errorFileAlways = true;

  constructor(...args: ConstructorParameters<typeof OpenAICompatibleEmulation>) {
    super(...args);
    this.mount("/openai/v1");
    this.mount("/openai");
    // The trap: an AzureOpenAI client built with `deployment` sends batch creation here, which Azure does not serve.
    this.router.add("POST", "/openai/deployments/:deployment/batches", () => {
      throw new HttpError(404, "404", "Resource not found");
    });
  }

  /**
   * The `api-key` header; on the v1 API also the key as a bearer token (as the plain OpenAI client sends it). A
   * bearer token on the versioned API is an Entra ID token, which the emulator cannot check: it is refused.
   */
  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const header = request.headers["api-key"];
    const v1 = (request.url ?? "").startsWith(`/${this.name}/openai/v1/`);
    const key =
      (typeof header === "string" ? header : undefined) ??
      (v1 ? bearerKey(request.headers.authorization) : undefined);
    if (key !== undefined && acceptsKey(key)) return null;
    return {
      status: 401,
      body: azureErrorBody("401", key === undefined ? MISSING_KEY_MESSAGE : INVALID_KEY_MESSAGE),
    };
  }

  errorBody(status: number, code: string, message: string) {
    return status === 404 && code === "404" ? RESOURCE_NOT_FOUND : azureErrorBody(code, message);
  }

  private apiOf(c: RouteContext): AzureApiKind {
    return c.url.pathname.startsWith(`/${this.name}/openai/v1/`) ? "v1" : "versioned";
  }

  /** The versioned API needs `api-version` (else Azure answers 404); the v1 API takes none but "v1" or "preview". */
  protected override checkRequest(c: RouteContext): void {
    const version = c.url.searchParams.get("api-version");
    if (this.apiOf(c) === "v1") {
      if (version !== null && version !== "v1" && version !== "preview") {
        throw new HttpError(
          400,
          "BadRequest",
          "api-version query parameter is not allowed when using /v1 path",
        );
      }
      return;
    }
    if (version === null) throw new HttpError(404, "404", "Resource not found");
    if (!DATED_VERSION.test(version) || version.slice(0, 10) < FIRST_BATCH_VERSION) {
      throw new HttpError(400, "BadRequest", "API version not supported");
    }
  }

  protected override newFileId(): string {
    return `file-${randomBytes(16).toString("hex")}`;
  }

  protected override newBatchId(): string {
    return `batch_${randomUUID()}`;
  }

  /** Only "24h": "If you set any other value than 24h your job will fail." */
  protected override completionWindow(value: unknown): WindowCheck {
    if (value === undefined) {
      throw new HttpError(
        400,
        "missing_required_parameter",
        "Missing required parameter: 'completion_window'.",
      );
    }
    return value === "24h"
      ? {}
      : { problem: { code: "invalid_request", message: "The completion window must be 24h." } };
  }

  protected override checkUpload(parts: readonly MultipartPart[]): void {
    const expiring = uploadExpiry(parts) !== undefined;
    const held = this.files.list().filter((file) => (file.expiresAt != null) === expiring).length;
    const maximum = expiring ? this.fileQuota.withExpiry : this.fileQuota.withoutExpiry;
    if (held >= maximum) {
      const kind = expiring ? "with" : "without";
      throw new HttpError(
        400,
        "quotaExceeded",
        `The quota for files ${kind} expiry is reached. The maximum is ${maximum}.`,
      );
    }
  }

  /** A UTF-8 file with a byte-order mark is refused, with the generic message Azure gives (known issue). */
  protected override parseInput(file: StoredFile, endpoint: string): ParsedInput {
    if (this.files.head(file, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) {
      const message =
        "Validation failed: A valid model deployment name couldn't be extracted from the input file. Please ensure " +
        "that each row in the input file has a valid deployment name specified in the 'model' field, and that the " +
        "deployment name is consistent across all rows.";
      return { requests: [], error: { code: "invalid_request", message } };
    }
    return super.parseInput(file, endpoint);
  }

  protected override fileObject(file: StoredFile): Json {
    return {
      ...this.fileFields(file),
      expires_at: file.expiresAt == null ? null : Math.floor(file.expiresAt / 1000),
      status: "processed",
      status_details: null,
    };
  }

  protected override presentBatch(object: Json, batch: OpenAICompatibleBatch, c: RouteContext): Json {
    return azureBatchObject(object, batch, this.apiOf(c));
  }

  protected override decorateResult(record: Json, _request: SimRequest, seed: string): Json {
    return azureResultLine(record, seed);
  }
}
