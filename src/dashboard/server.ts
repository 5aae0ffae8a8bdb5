import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { RelayClient } from "../client.js";
import { ValidationError } from "../errors.js";
import { JobIndex } from "../jobs/job-index.js";
import { JobStore } from "../jobs/store.js";
import type { ProviderConfig } from "../providers/types.js";
import type { ProviderName } from "../types.js";
import { HttpError } from "../util/http-server.js";
import { redactSecrets } from "../util/secrets.js";
import type { LockOptions } from "../workspace/lock.js";
import { Workspace } from "../workspace/workspace.js";
import { type ApiContext, apiRouter, type DashboardState, errorAnswer } from "./api.js";
import { Assets } from "./assets.js";
import { CostCache } from "./costs.js";
import { EventHub } from "./events.js";
import {
  allowedHostHeaders,
  bearerToken,
  checkStateChange,
  cookieValue,
  isLoopback,
  SECURITY_HEADERS,
  tokensEqual,
} from "./guard.js";
import { ProgressHistory } from "./history.js";
import { TableOrders } from "./job-table.js";
import { ProviderPoller } from "./poller.js";
import { ResultsReader } from "./results.js";

export interface DashboardOptions {
  /** The workspace directory (it must exist). */
  directory: string;
  /** The address to listen on. Default 127.0.0.1. Any address beyond loopback needs `allowRemote`. */
  host?: string;
  /** Default 0: a free port (see the returned url). */
  port?: number;
  /** Only look: no refresh, cancel or retry, and the provider is never asked. */
  readOnly?: boolean;
  /**
   * An access token every request must carry (the `?token=` of the url once, then a cookie; or an
   * `Authorization: Bearer` header). Generated when listening beyond loopback without one; optional on loopback.
   */
  token?: string;
  /** Listen on an address beyond loopback (reachable from other machines). Off unless set. */
  allowRemote?: boolean;
  /** More names the dashboard may be reached by (checked against the Host header), e.g. the machine's DNS name. */
  allowedHosts?: string[];
  /** Keys and base URLs per provider, as for RelayClient; else read from the environment. */
  providers?: Partial<Record<ProviderName, ProviderConfig>>;
  env?: NodeJS.ProcessEnv;
  /** How often running jobs are checked at their provider (0: only by Refresh). Default 30 s. */
  pollIntervalMs?: number;
  lock?: LockOptions;
}

export interface Dashboard {
  /** The page's address (with `?token=` when an access token is needed). */
  url: string;
  /** The access token, or null when none is needed. */
  token: string | null;
  close(): Promise<void>;
}

const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;
/** How often the pages are told about changes and the poller looks for due jobs. */
const TICK_MS = 500;

function hostInUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") {
    // Listening everywhere: show the first address another machine could use.
    for (const addresses of Object.values(networkInterfaces()))
      for (const address of addresses ?? [])
        if (!address.internal && address.family === "IPv4") return address.address;
    return "127.0.0.1";
  }
  return host.includes(":") ? `[${host.replace(/^\[|\]$/g, "")}]` : host;
}

function checkOptions(options: DashboardOptions): { host: string; port: number; token: string | null } {
  if (!options || typeof options.directory !== "string" || options.directory.trim() === "")
    throw new ValidationError(
      'startDashboard() needs the workspace directory: startDashboard({ directory: "my_jobs" }).',
    );
  const host = options.host ?? "127.0.0.1";
  const loopback = isLoopback(host);
  if (!loopback && !options.allowRemote) {
    throw new ValidationError(
      `Listening on ${host} makes the dashboard reachable from other machines. Pass allowRemote (relay dashboard ` +
        "--allow-remote) to do so; an access token is then required on every request.",
      "remote_not_allowed",
    );
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ValidationError(`port must be a whole number from 0 to 65535, not ${port}.`);
  if (options.token !== undefined && !TOKEN_PATTERN.test(options.token))
    throw new ValidationError("The access token must be 16 to 256 letters, digits, '.', '_', '~' or '-'.");
  const token = options.token ?? (loopback ? null : randomBytes(24).toString("base64url"));
  if (options.pollIntervalMs !== undefined && !(options.pollIntervalMs >= 0))
    throw new ValidationError("pollIntervalMs must be 0 (never) or more.");
  return { host, port, token };
}

/**
 * Serves the dashboard: a page over the workspace's jobs (table, job view, results, actions) and its JSON API,
 * on loopback unless told otherwise. Every answer carries a Content-Security-Policy without inline script; the
 * Host header is checked; changes are POSTs with the page's session token.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { host, port, token } = checkOptions(options);
  const workspace = new Workspace(options.directory);
  const found = await stat(workspace.directory).catch(() => null);
  if (!found?.isDirectory())
    throw new ValidationError(
      `There is no workspace directory at ${workspace.directory}.`,
      "workspace_not_found",
    );
  const env = options.env ?? process.env;
  const readOnly = options.readOnly ?? false;
  const pollIntervalMs = readOnly ? 0 : (options.pollIntervalMs ?? 30_000);
  const client = new RelayClient({
    directory: workspace.directory,
    env,
    ...(options.providers ? { providers: options.providers } : {}),
    lock: options.lock ?? { waitMs: 2_000 },
  });
  const store = new JobStore(workspace, options.lock);
  const index = new JobIndex(store);
  const costs = new CostCache(client);
  const history = new ProgressHistory();
  const events = new EventHub();
  const assets = await Assets.load();
  let lastVersion = 0;
  let lastCostVersion = 0;

  const state: DashboardState = {
    directory: workspace.directory,
    client,
    index,
    costs,
    results: new ResultsReader(client, store, index),
    history,
    poller: null,
    events,
    orders: new TableOrders(),
    readOnly,
    sessionToken: randomBytes(24).toString("base64url"),
    pollIntervalMs,
    async sync() {
      await index.refresh();
      if (index.version === lastVersion && costs.version === lastCostVersion) return;
      const changed = index.changedSince(lastVersion);
      // What the stored results cost is counted in the background, for the jobs whose files changed.
      if (index.version !== lastVersion) costs.want(index.list());
      for (const jobId of changed) {
        const record = index.get(jobId)?.record;
        if (record) history.observe(record);
      }
      lastVersion = index.version;
      lastCostVersion = costs.version;
      events.broadcast(index.version, costs.version, changed);
    },
    send(response, status, value) {
      // The client has remembered every configured key; none leaves in an answer, whatever a provider said.
      const body = redactSecrets(JSON.stringify(value));
      response.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-store",
      });
      response.end(body);
    },
  };
  if (pollIntervalMs > 0)
    state.poller = new ProviderPoller(client, pollIntervalMs, (jobId) => index.invalidate(jobId));

  const router = apiRouter();
  let allowedHosts = new Set<string>();
  let boundPort = port;
  // Cookies are kept per host, not per port: each dashboard names its own.
  const cookieName = () => `relay_dashboard_${boundPort}`;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const hostHeader = (request.headers.host ?? "").toLowerCase();
    if (!allowedHosts.has(hostHeader)) {
      // Another site's name resolved to this machine (DNS rebinding), or an address not meant to reach it.
      throw new HttpError(
        403,
        "host_not_allowed",
        `This dashboard does not answer to the host "${hostHeader}".`,
      );
    }
    const url = new URL(request.url ?? "/", `http://${hostHeader}`);
    const method = request.method === "HEAD" ? "GET" : (request.method ?? "GET");
    if (method !== "GET" && method !== "POST") {
      response.setHeader("allow", "GET, HEAD, POST");
      throw new HttpError(405, "method_not_allowed", `${request.method} is not allowed here.`);
    }
    if (token !== null) {
      const given = url.searchParams.get("token");
      if (given !== null && method === "GET") {
        if (!tokensEqual(given, token))
          throw new HttpError(401, "access_token_required", "The access token is wrong.");
        // Once: the token moves into a cookie this site alone sends, and out of the address bar.
        url.searchParams.delete("token");
        response.writeHead(303, {
          "set-cookie": `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          location: `${url.pathname}${url.search}`,
        });
        response.end();
        return;
      }
      if (!tokensEqual(cookieValue(request, cookieName()) ?? bearerToken(request), token)) {
        throw new HttpError(
          401,
          "access_token_required",
          "This dashboard needs its access token: open the address relay dashboard printed (with ?token=).",
        );
      }
    }
    if (url.pathname === "/" || url.pathname === "/index.html") {
      if (method !== "GET") throw new HttpError(405, "method_not_allowed", "The page is read with GET.");
      assets.send(request, response, "index.html");
      return;
    }
    if (url.pathname.startsWith("/assets/")) {
      if (method !== "GET") throw new HttpError(405, "method_not_allowed", "Files are read with GET.");
      assets.send(request, response, url.pathname.slice("/assets/".length));
      return;
    }
    if (!url.pathname.startsWith("/api/"))
      throw new HttpError(404, "not_found", `Nothing at ${url.pathname}.`);
    if (request.headers["sec-fetch-site"] === "cross-site")
      throw new HttpError(403, "cross_site_request", "Other sites cannot read this dashboard.");
    const match = router.match(method, url.pathname);
    if (match === null) throw new HttpError(404, "not_found", `No API at ${url.pathname}.`);
    if (match === "wrong_method")
      throw new HttpError(405, "method_not_allowed", `${method} is not allowed here.`);
    if (method === "POST")
      checkStateChange(request, {
        sessionToken: state.sessionToken,
        readOnly,
        origin: `http://${hostHeader}`,
      });
    const context: ApiContext = { request, response, params: match.params, url, state };
    await match.handler(context);
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const answer = errorAnswer(error);
      if (!request.url?.startsWith("/api/")) {
        // Plain text outside the API: nothing that a browser would render as markup.
        const text = redactSecrets(answer.body.error.message);
        response.writeHead(answer.status, {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": "no-store",
        });
        response.end(`${text}\n`);
        return;
      }
      state.send(response, answer.status, answer.body);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  allowedHosts = allowedHostHeaders(host, boundPort, options.allowedHosts ?? []);

  // The first read of a large workspace happens while the page loads; a request waits for it.
  void state.sync().catch(() => {});
  let syncing = false;
  const ticker = setInterval(() => {
    if (!syncing && (events.size > 0 || state.poller)) {
      syncing = true;
      state
        .sync()
        .catch(() => {})
        .finally(() => {
          syncing = false;
        });
    }
    // Returns at once while a pass is running; what it writes is read by a later tick.
    void state.poller?.check(index.list());
  }, TICK_MS);
  ticker.unref();

  const url = `http://${hostInUrl(host)}:${boundPort}/${token ? `?token=${token}` : ""}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    close() {
      closing ??= (async () => {
        clearInterval(ticker);
        await state.poller?.stop();
        costs.close();
        events.close();
        index.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
