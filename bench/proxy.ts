/**
 * A pass-through HTTP proxy in front of the emulator that counts provider calls by kind. Relay and the AI SDK are
 * pointed at it; it streams bodies both ways (no buffering) and answers `GET /__bench/counts` itself.
 */
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The kind of an OpenAI Files/Batches call, from its method and path. */
export function callKind(method: string, pathname: string): string {
  const path = pathname.replace(/^\/openai\/v1/, "");
  if (method === "POST" && path === "/files") return "upload";
  if (method === "GET" && /^\/files\/[^/]+\/content$/.test(path)) return "download";
  if (method === "POST" && path === "/batches") return "create";
  if (method === "GET" && path === "/batches") return "list";
  if (method === "GET" && /^\/batches\/[^/]+$/.test(path)) return "retrieve";
  if (method === "POST" && /^\/batches\/[^/]+\/cancel$/.test(path)) return "cancel";
  return `${method} ${path.replace(/\/(file|batch)[-_][^/]+/g, "/:id")}`;
}

/** One call as the proxy saw it (epoch milliseconds), for timelines in the saved JSON. */
export interface CallEvent {
  kind: string;
  start: number;
  end: number;
  status: number;
}

export class CountingProxy {
  private counts: Record<string, number> = {};
  readonly events: CallEvent[] = [];
  private server: Server | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  origin = "";

  constructor(private readonly target: string) {}

  reset(): void {
    this.counts = {};
  }

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }

  private add(key: string, amount = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + amount;
  }

  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://proxy");
      if (url.pathname === "/__bench/counts") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(this.counts));
        return;
      }
      const method = request.method ?? "GET";
      const kind = callKind(method, url.pathname);
      const event: CallEvent = { kind, start: Date.now(), end: 0, status: 0 };
      this.events.push(event);
      this.add(kind);
      this.add("total");
      request.on("data", (chunk: Buffer) => this.add("bytes_up", chunk.length));
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: request.url,
          headers: { ...request.headers, host: target.host },
          agent: this.agent,
        },
        (answer) => {
          const status = answer.statusCode ?? 502;
          event.status = status;
          if (status >= 400) this.add(`http_${status}`);
          response.writeHead(status, answer.headers);
          answer.on("data", (chunk: Buffer) => this.add("bytes_down", chunk.length));
          answer.pipe(response);
        },
      );
      upstream.on("error", (error) => {
        this.add("proxy_error");
        if (!response.headersSent) response.writeHead(502).end(String(error));
        else response.destroy(error);
      });
      response.on("close", () => {
        event.end = Date.now();
        if (!response.writableFinished) upstream.destroy();
      });
      request.pipe(upstream);
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(0, "127.0.0.1", () => resolve());
    });
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
