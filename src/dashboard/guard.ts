import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { HttpError } from "../util/http-server.js";

/** Sent with every response: no inline script or style, nothing from elsewhere, never framed, no referrer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

/** The header a state-changing request carries the session token in. */
export const SESSION_TOKEN_HEADER = "x-relay-token";

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  if (bare === "localhost" || bare === "::1") return true;
  return isIP(bare) === 4 && bare.startsWith("127.");
}

/** How a host name appears in a Host header: IPv6 literals in brackets, lower case. */
function hostForm(host: string): string {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

/**
 * The Host header values the dashboard answers to. A page of another site that has its name resolved to this
 * machine (DNS rebinding) sends its own name, and is refused.
 */
export function allowedHostHeaders(bindHost: string, port: number, extra: readonly string[]): Set<string> {
  const names = new Set<string>(["127.0.0.1", "localhost", "[::1]"]);
  names.add(hostForm(bindHost));
  if (!isLoopback(bindHost)) {
    // Bound beyond loopback: the machine's own addresses and name, and the names the user listed.
    for (const addresses of Object.values(networkInterfaces()))
      for (const address of addresses ?? []) names.add(hostForm(address.address));
    names.add(hostname().toLowerCase());
  }
  for (const name of extra) names.add(hostForm(name));
  names.delete("0.0.0.0");
  names.delete("[::]");
  const allowed = new Set<string>();
  for (const name of names) {
    allowed.add(`${name}:${port}`);
    if (port === 80) allowed.add(name);
  }
  return allowed;
}

export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

export function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  return match?.[1];
}

/**
 * Refuses a state-changing request unless it comes from the dashboard's own page: JSON (which a cross-site form
 * cannot send), with the session token in a header (which a cross-site page can neither read nor send without a
 * preflight the dashboard never grants), and, where the browser says where it comes from, from this origin.
 */
export function checkStateChange(
  request: IncomingMessage,
  options: { sessionToken: string; readOnly: boolean; origin: string },
): void {
  if (options.readOnly)
    throw new HttpError(403, "read_only", "This dashboard is read-only (started with --read-only).");
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin")
    throw new HttpError(403, "cross_site_request", "Requests from other sites cannot change anything here.");
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== options.origin)
    throw new HttpError(
      403,
      "cross_site_request",
      "Requests from other origins cannot change anything here.",
    );
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new HttpError(415, "json_required", "Actions take a JSON body (content-type: application/json).");
  const token = request.headers[SESSION_TOKEN_HEADER];
  if (!tokensEqual(Array.isArray(token) ? token[0] : token, options.sessionToken))
    throw new HttpError(
      403,
      "session_token_required",
      `Actions need the page's session token (${SESSION_TOKEN_HEADER}).`,
    );
}
