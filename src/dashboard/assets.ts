import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The page's files, at the same place relative to this module in src/ and in dist/ (they are not compiled). */
export const ASSETS_DIRECTORY = fileURLToPath(new URL("../../src/dashboard/assets/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The page's files, read once; only these names are ever served, so no path can reach another file. */
export class Assets {
  private constructor(private readonly files: ReadonlyMap<string, Asset>) {}

  static async load(directory = ASSETS_DIRECTORY): Promise<Assets> {
    const files = new Map<string, Asset>();
    for (const name of await readdir(directory)) {
      const type = TYPES[extname(name)];
      if (!type) continue;
      const body = await readFile(join(directory, name));
      files.set(name, {
        body,
        type,
        etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"`,
      });
    }
    return new Assets(files);
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  send(request: IncomingMessage, response: ServerResponse, name: string): void {
    const asset = this.files.get(name);
    if (!asset) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end("Not found");
      return;
    }
    const headers = { "content-type": asset.type, etag: asset.etag, "cache-control": "no-cache" };
    if (request.headers["if-none-match"] === asset.etag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(200, { ...headers, "content-length": asset.body.length });
    response.end(request.method === "HEAD" ? undefined : asset.body);
  }
}
