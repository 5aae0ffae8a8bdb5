import type { IncomingMessage, ServerResponse } from "node:http";

interface Route<H> {
  method: string;
  pattern: RegExp;
  handler: H;
}

/**
 * A minimal router for node:http servers: a `:name` at the start of a segment becomes a param (URL-decoded); a colon
 * elsewhere is literal, so that Google-style custom methods (`/batches/:id:cancel`) can be routed.
 */
export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, path: string, handler: H): this {
    const pattern = new RegExp(`^${path.replace(/\/:(\w+)/g, (_, name) => `/(?<${name}>[^/]+)`)}$`);
    this.routes.push({ method, pattern, handler });
    return this;
  }

  match(
    method: string,
    pathname: string,
  ): { handler: H; params: Record<string, string> } | "wrong_method" | null {
    let pathMatched = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(found.groups ?? {})) {
        try {
          params[key] = decodeURIComponent(value);
        } catch {
          throw new HttpError(400, "invalid_path", "The path is not valid percent-encoding");
        }
      }
      return { handler: route.handler, params };
    }
    return pathMatched ? "wrong_method" : null;
  }
}

/** An error to answer with: the status, a stable code and a message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
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

/** Writes a chunk, waiting for the socket to drain when its buffer is full; false once the client has gone. */
export async function writeChunk(response: ServerResponse, chunk: string | Buffer): Promise<boolean> {
  if (response.destroyed) return false;
  if (!response.write(chunk)) {
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
  return !response.destroyed;
}
