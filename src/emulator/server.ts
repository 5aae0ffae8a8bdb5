import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { providerEntries, providerEntry } from "../providers/registry.js";
import type { ProviderName } from "../types.js";
import { type EmulatorClock, realClock } from "./clock.js";
import type { EmulatorContext, ProviderEmulation } from "./context.js";
import { type BatchTiming, DEFAULT_TIMING } from "./engine.js";
import { fateFromText, type RequestFate } from "./fates.js";
import { FaultInjector } from "./faults.js";
import { HttpError, sendJson } from "./http.js";
import { EMULATIONS, type Emulations } from "./registry.js";

export interface EmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  clock?: EmulatorClock;
  timing?: Partial<BatchTiming>;
  /** The API key each provider's emulation accepts; a provider without one accepts any key. */
  apiKeys?: Partial<Record<ProviderName, string>>;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
}

/**
 * A local HTTP server that speaks the providers' batch APIs, for tests and for trying Relay without keys.
 * Each provider lives under its own name (`<url>/openai/…`, `<url>/anthropic/…`); `baseURL(name)` is what to give
 * its SDK or Relay.
 */
export class Emulator {
  readonly faults = new FaultInjector();
  readonly clock: EmulatorClock;
  readonly timing: BatchTiming;
  /** Each provider's emulation, by name (tests set limits or read what was sent). */
  readonly providers: Emulations;
  /** Every request served, in order (method, path without the query, status; 0 when the connection was dropped). */
  readonly requestLog: RequestLogEntry[] = [];
  /** Emits "request" ({method, path}) as each request arrives, and "held" ({method, path, phase}) during a hold. */
  readonly events = new EventEmitter();
  private readonly fates = new Map<string, RequestFate>();
  private readonly mounted = new Map<string, ProviderEmulation>();
  private readonly apiKeys: Partial<Record<ProviderName, string>>;
  private server: Server | undefined;
  private origin = "";

  constructor(options: EmulatorOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.apiKeys = { ...options.apiKeys };
    const context: EmulatorContext = {
      clock: this.clock,
      timing: this.timing,
      fateOf: (customId, bodyText) => this.fates.get(customId) ?? fateFromText(bodyText) ?? "succeed",
    };
    const providers: Partial<Record<ProviderName, ProviderEmulation>> = {};
    for (const entry of providerEntries()) {
      const emulation = EMULATIONS[entry.name](context);
      providers[entry.name] = emulation;
      this.mounted.set(entry.name, emulation);
    }
    this.providers = providers as Emulations;
  }

  static async start(options: EmulatorOptions = {}): Promise<Emulator> {
    const emulator = new Emulator(options);
    await emulator.listen(options.port ?? 0, options.host ?? "127.0.0.1");
    return emulator;
  }

  get url(): string {
    return this.origin;
  }

  /** The base URL to give the provider's SDK or Relay (`providers.<name>.baseURL`). */
  baseURL(provider: ProviderName): string {
    return `${this.origin}${providerEntry(provider).emulatorBasePath}`;
  }

  /** Makes every later request with this custom_id end this way. */
  setFate(customId: string, fate: RequestFate): void {
    this.fates.set(customId, fate);
  }

  /** Batches held per provider (to prove that no duplicate was created). */
  batchCount(provider: string): number {
    return this.mounted.get(provider)?.batchCount() ?? 0;
  }

  private async listen(port: number, host: string): Promise<void> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error) => {
        if (!response.headersSent)
          sendJson(response, 500, { error: { message: String(error), type: "server_error" } });
        else response.destroy();
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.origin = `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.origin);
    const method = request.method ?? "GET";
    const [, prefix = "", ...rest] = url.pathname.split("/");
    const provider = this.mounted.get(prefix);
    const path = `/${rest.join("/")}`;
    let dropped = false;
    response.on("close", () =>
      this.requestLog.push({
        method,
        path: url.pathname,
        status: response.writableFinished && !dropped ? response.statusCode : 0,
      }),
    );

    this.events.emit("request", { method, path: url.pathname });
    const fault = this.faults.take(method, url.pathname);
    let dropResponse = false;
    let holdAfterMs = 0;
    if (fault) {
      if (fault.kind === "reset") {
        request.socket.destroy();
        return;
      }
      if (fault.kind === "status") {
        await drain(request);
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
        const body =
          fault.body ?? provider?.errorBody(fault.status, "emulated_fault", `Emulated HTTP ${fault.status}`);
        sendJson(response, fault.status, body ?? { error: "emulated fault" }, headers);
        return;
      }
      if (fault.kind === "delay") await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (fault.kind === "cut") cutAfter(response, fault.afterBytes);
      if (fault.kind === "drop_response") dropResponse = true;
      if (fault.kind === "hold" && fault.phase === "before") {
        await bufferBody(request);
        this.events.emit("held", { method, path: url.pathname, phase: "before" });
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (request.socket.destroyed) return;
      }
      if (fault.kind === "hold" && fault.phase === "after") holdAfterMs = fault.ms;
    }

    if (!provider) {
      sendJson(response, 404, {
        error: {
          message: `Unknown path ${url.pathname}; providers: ${[...this.mounted.keys()].join(", ")}`,
        },
      });
      return;
    }
    const expected = this.apiKeys[prefix as ProviderName];
    const denied = provider.checkAuth(request, (key) => expected === undefined || key === expected);
    if (denied) {
      await drain(request);
      sendJson(response, denied.status, denied.body);
      return;
    }
    const match = provider.router.match(method, path);
    if (match === null || match === "wrong_method") {
      await drain(request);
      const status = match === null ? 404 : 405;
      sendJson(response, status, provider.errorBody(status, "not_found", `No route for ${method} ${path}`));
      return;
    }
    if (holdAfterMs > 0) {
      // The request has been carried out when the handler ends the response; hold that answer back.
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      response.end = ((...args: unknown[]) => {
        this.events.emit("held", { method, path: url.pathname, phase: "after" });
        setTimeout(() => {
          if (!response.socket?.destroyed) end(...args);
        }, holdAfterMs);
        return response;
      }) as typeof response.end;
    }
    if (dropResponse) {
      // The request is carried out, but the caller never hears back: its outcome is unknown to it.
      const original = response.writeHead.bind(response);
      response.writeHead = ((...args: Parameters<typeof original>) => {
        dropped = true;
        request.socket.destroy();
        return original(...args);
      }) as typeof response.writeHead;
    }
    try {
      await match.handler({ request, response, params: match.params, url, origin: this.origin });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (!response.headersSent)
        sendJson(response, error.status, provider.errorBody(error.status, error.code, error.message));
    }
  }
}

/** Reads a request body now and replays it to the handler later (for holds that must see the caller go away). */
async function bufferBody(request: IncomingMessage): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const replay = async function* () {
    yield body;
  };
  (request as unknown as { [Symbol.asyncIterator]: () => AsyncIterator<Buffer> })[Symbol.asyncIterator] =
    () => replay();
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _ of request) {
    // discard
  }
}

/** Sends only the first `limit` bytes of the body (written in parts or given to end), then drops the connection. */
function cutAfter(response: ServerResponse, limit: number): void {
  let sent = 0;
  const write = response.write.bind(response) as (chunk: unknown, ...rest: unknown[]) => boolean;
  response.write = ((chunk: string | Buffer, ...rest: unknown[]) => {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    if (sent + buffer.length <= limit) {
      sent += buffer.length;
      return write(buffer, ...rest);
    }
    write(buffer.subarray(0, Math.max(0, limit - sent)));
    sent = limit;
    setImmediate(() => response.socket?.destroy());
    return false;
  }) as typeof response.write;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === "string" || Buffer.isBuffer(chunk)) {
      response.write(chunk);
      if (sent >= limit) return response;
      return end(...rest);
    }
    return end(chunk, ...rest);
  }) as typeof response.end;
}
