import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * A small HTTP transport on node:http. Node 20's fetch buffers request bodies in memory; here a body given as a
 * stream factory is piped from its source, so uploads stay flat in memory whatever the file size.
 */

/** A body held in memory, or a factory that opens a fresh stream (called again on each retry). */
export type RequestBody = string | Buffer | (() => Readable);

export interface SendOptions {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  body?: RequestBody;
  /** How long the connection may stay silent before the request is abandoned. */
  timeoutMs: number;
}

/**
 * The request never got an answer: refused, reset, timed out. Named like the Stainless SDKs' error so that
 * errors.ts treats it as a connection failure (an ambiguous outcome for a batch creation).
 */
export class HttpConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "APIConnectionError";
  }
}

/** The API answered with an error status. `status` is what errors.ts reads. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** From `retry-after-ms` or `retry-after`, when the server sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = "HttpStatusError";
  }
}

/** Sends one request and resolves with the response as soon as its headers arrive; the body is the caller's. */
export function send(options: SendOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const requestFn = options.url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = requestFn(options.url, { method: options.method, headers: options.headers });
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      request.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      reject(
        new HttpConnectionError(`${options.method} ${options.url.pathname} failed: ${reason}`, {
          cause: error,
        }),
      );
    };
    // Destroying (rather than rejecting) also ends a response body that stalls after the headers came.
    request.setTimeout(options.timeoutMs, () =>
      request.destroy(new Error(`silent for ${options.timeoutMs} ms`)),
    );
    request.on("error", fail);
    request.on("response", (response) => {
      if (settled) {
        response.resume();
        return;
      }
      settled = true;
      resolve(response);
    });
    const body = options.body;
    if (body === undefined) request.end();
    else if (typeof body === "function") {
      // A server may answer (say 401) before reading the whole body; the error from the cut pipe is then moot.
      pipeline(body(), request).catch(fail);
    } else request.end(body);
  });
}

/** The whole body of a (small) response as text. A connection lost while reading is a connection error. */
export async function readText(response: IncomingMessage, limitBytes = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw new Error(`response larger than ${limitBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    response.destroy();
    throw new HttpConnectionError(`reading the response failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Milliseconds the server asked to wait, from `retry-after-ms`, else `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(response: IncomingMessage, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(String(response.headers["retry-after-ms"] ?? ""));
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const header = response.headers["retry-after"];
  if (typeof header !== "string" || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
