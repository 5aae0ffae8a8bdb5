import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, Router as PathRouter, readBody, sendJson, writeChunk } from "../util/http-server.js";

export { HttpError, readBody, sendJson };

export type Handler = (context: RouteContext) => Promise<void> | void;

export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  params: Record<string, string>;
  url: URL;
  /** The externally visible origin, e.g. http://127.0.0.1:4010 (for absolute URLs such as Anthropic's results_url). */
  origin: string;
}

/** The router of one provider's emulation. */
export class Router extends PathRouter<Handler> {}

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

/** Streams text lines as a response body, in writes of about 256 KB, respecting backpressure. */
export async function sendLines(
  response: ServerResponse,
  lines: Iterable<string> | AsyncIterable<string>,
  contentType = "application/octet-stream",
): Promise<void> {
  response.writeHead(200, { "content-type": contentType });
  let pending: string[] = [];
  let length = 0;
  const flush = async (): Promise<boolean> => {
    pending.push("");
    const chunk = pending.join("\n");
    pending = [];
    length = 0;
    return writeChunk(response, chunk);
  };
  for await (const line of lines) {
    pending.push(line);
    length += line.length + 1;
    if (length >= 256 * 1024 && !(await flush())) return;
  }
  if (pending.length > 0 && !(await flush())) return;
  response.end();
}

/** The key of an `Authorization: Bearer <key>` header, if the request carries one. */
export function bearerKey(request: IncomingMessage): string | undefined {
  return /^Bearer (\S+)/.exec(request.headers.authorization ?? "")?.[1];
}
