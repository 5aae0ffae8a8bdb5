import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import {
  HttpConnectionError,
  HttpStatusError,
  type RequestBody,
  readText,
  retryAfterMs,
  send,
} from "./http.js";
import { asObject, asString } from "./json.js";

export interface RestClientOptions {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  /** Retries after the first attempt, for calls that may be repeated. */
  maxRetries: number;
  /** Headers that authenticate a request; by default `Authorization: Bearer <apiKey>`. */
  authHeaders?: Record<string, string>;
  /** Query parameters every request carries (e.g. Azure's `api-version`). */
  query?: Record<string, string>;
}

export interface CallOptions {
  json?: unknown;
  query?: Record<string, string>;
  /** Retry 408/409/429/5xx answers and lost connections. False for a call whose repetition could do harm. */
  retry: boolean;
}

/** The longest wait Relay accepts from a `retry-after` header before trying again anyway. */
const MAX_RETRY_AFTER_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The message of a validation `detail`: a string, or a list of `{loc, msg}` entries (FastAPI/pydantic, as Mistral
 * answers a 422).
 */
function detailMessage(detail: unknown): string | undefined {
  if (typeof detail === "string" && detail !== "") return detail;
  if (!Array.isArray(detail)) return undefined;
  const parts = detail.map(asObject).flatMap((entry) => {
    const msg = asString(entry?.msg);
    if (!msg) return [];
    const loc = Array.isArray(entry?.loc) ? entry.loc.join(".") : "";
    return [loc ? `${loc}: ${msg}` : msg];
  });
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * The message of an error body: `{"error": "…"}`, `{"error": {"message", …}}`, `{"message"}`, or a validation
 * `detail`, at the top level or as `{"message": {"detail"}}`.
 */
export function errorMessage(status: number, text: string): string {
  try {
    const body = asObject(JSON.parse(text));
    const error = body?.error;
    if (typeof error === "string" && error !== "") return error;
    const message =
      asString(asObject(error)?.message) ??
      asString(body?.message) ??
      detailMessage(asObject(body?.message)?.detail) ??
      detailMessage(body?.detail);
    if (message) return message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 300) || `HTTP ${status}`;
}

export async function apiError(response: IncomingMessage): Promise<HttpStatusError> {
  const status = response.statusCode ?? 0;
  let text = "";
  try {
    text = await readText(response, 1024 * 1024);
  } catch {
    // the status alone says enough
  }
  return new HttpStatusError(status, `HTTP ${status}: ${errorMessage(status, text)}`, retryAfterMs(response));
}

/** A 429: the request was turned away before it did anything, so even a call that must not be repeated may be. */
export function isRateLimited(error: unknown): boolean {
  return error instanceof HttpStatusError && error.status === 429;
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof HttpConnectionError) return true;
  if (!(error instanceof HttpStatusError)) return false;
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
}

/**
 * A provider's REST API without its SDK: bearer auth, JSON calls with retries (honouring retry-after), streamed
 * bodies both ways. Used where an SDK would hold a request body in memory or cannot be pointed at a base URL.
 */
export class RestClient {
  constructor(private readonly options: RestClientOptions) {}

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  url(path: string, query: Record<string, string> = {}): URL {
    const url = new URL(`${this.options.baseURL.replace(/\/+$/, "")}${path}`);
    for (const [key, value] of Object.entries({ ...this.options.query, ...query }))
      url.searchParams.set(key, value);
    return url;
  }

  /**
   * Runs `attempt`, retrying retryable failures after the server's `retry-after` or an exponential backoff.
   * `retryable` narrows what is retried, for calls that may only be repeated when they certainly did nothing.
   */
  async withRetries<T>(attempt: () => Promise<T>, retryable = isRetryable): Promise<T> {
    for (let retry = 0; ; retry += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (retry >= this.options.maxRetries || !retryable(error)) throw error;
        await sleep(this.delayBefore(retry, error));
      }
    }
  }

  private delayBefore(retry: number, error: unknown): number {
    const asked = error instanceof HttpStatusError ? error.retryAfterMs : undefined;
    if (asked !== undefined) return Math.min(asked, MAX_RETRY_AFTER_MS);
    const base = Math.min(8_000, 250 * 2 ** retry);
    return base * (0.75 + Math.random() * 0.5);
  }

  /** One authenticated request; an error status becomes a HttpStatusError, anything else is returned unread. */
  async request(
    method: string,
    url: URL,
    options: { headers?: OutgoingHttpHeaders; body?: RequestBody } = {},
  ): Promise<IncomingMessage> {
    const response = await send({
      method,
      url,
      headers: {
        ...(this.options.authHeaders ?? { authorization: `Bearer ${this.options.apiKey}` }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: options.body }),
      timeoutMs: this.options.timeoutMs,
    });
    if ((response.statusCode ?? 0) >= 400) throw await apiError(response);
    return response;
  }

  /** A JSON call; returns the parsed answer (null for an empty body). */
  async call(method: string, path: string, options: CallOptions): Promise<unknown> {
    return (await this.exchange(method, path, options)).body;
  }

  /** A JSON call that also returns the answer's headers (e.g. `date`, the provider's clock). */
  async exchange(
    method: string,
    path: string,
    options: CallOptions,
  ): Promise<{ body: unknown; headers: IncomingHttpHeaders }> {
    const once = async () => {
      const body = options.json === undefined ? undefined : JSON.stringify(options.json);
      const headers: OutgoingHttpHeaders = { accept: "application/json" };
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(body);
      }
      const response = await this.request(method, this.url(path, options.query), {
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await readText(response);
      if (text.trim() === "") return { body: null, headers: response.headers };
      try {
        return { body: JSON.parse(text) as unknown, headers: response.headers };
      } catch {
        throw new Error(
          `${method} ${path} answered HTTP ${response.statusCode} with a body that is not JSON`,
        );
      }
    };
    return options.retry ? this.withRetries(once) : once();
  }

  /** Opens a file's content as a stream; failures to open are retried, the body is the caller's to read. */
  openContent(fileId: string): Promise<IncomingMessage> {
    return this.withRetries(() =>
      this.request("GET", this.url(`/files/${encodeURIComponent(fileId)}/content`)),
    );
  }
}
