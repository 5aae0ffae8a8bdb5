import type { IncomingMessage, ServerResponse } from "node:http";

export type Handler = (context: RouteContext) => Promise<void> | void;

export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  params: Record<string, string>;
  url: URL;
  /** The externally visible origin, e.g. http://127.0.0.1:4010 (for absolute URLs such as Anthropic's results_url). */
  origin: string;
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/**
 * A minimal router: a `:name` at the start of a segment becomes a param; a colon elsewhere is literal, so that
 * Google-style custom methods (`/batches/:id:cancel`) can be routed.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const pattern = new RegExp(`^${path.replace(/\/:(\w+)/g, (_, name) => `/(?<${name}>[^/]+)`)}$`);
    this.routes.push({ method, pattern, handler });
    return this;
  }

  match(
    method: string,
    pathname: string,
  ): { handler: Handler; params: Record<string, string> } | "wrong_method" | null {
    let pathMatched = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(found.groups ?? {})) params[key] = decodeURIComponent(value);
      return { handler: route.handler, params };
    }
    return pathMatched ? "wrong_method" : null;
  }
}

export async function readBody(request: IncomingMessage, limitBytes = 1024 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new HttpError(413, "request_too_large", "Request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readJson(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON");
  }
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Parses a multipart/form-data body held in memory. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? "");
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2];
  if (!boundary) throw new HttpError(400, "invalid_request", "Expected a multipart/form-data body");
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    const start = position + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const headerEnd = body.indexOf("\r\n\r\n", start);
    if (headerEnd === -1) break;
    const headers = body.subarray(start + 2, headerEnd).toString("utf8");
    const next = body.indexOf(delimiter, headerEnd);
    if (next === -1) break;
    const data = body.subarray(headerEnd + 4, next - 2);
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "";
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const type = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1];
    parts.push({
      name,
      data,
      ...(filename === undefined ? {} : { filename }),
      ...(type ? { contentType: type } : {}),
    });
    position = next;
  }
  return parts;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

/** Streams text lines as a response body, respecting backpressure. */
export async function sendLines(
  response: ServerResponse,
  lines: Iterable<string> | AsyncIterable<string>,
  contentType = "application/octet-stream",
): Promise<void> {
  response.writeHead(200, { "content-type": contentType });
  for await (const line of lines) {
    if (response.destroyed) return;
    if (!response.write(`${line}\n`)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off("drain", done);
          response.off("close", done);
          resolve();
        };
        response.once("drain", done);
        response.once("close", done);
      });
    }
  }
  response.end();
}

/** The key of an `Authorization: Bearer <key>` header, if the request carries one. */
export function bearerKey(request: IncomingMessage): string | undefined {
  return /^Bearer (\S+)/.exec(request.headers.authorization ?? "")?.[1];
}
