/**
 * xAI's REST errors: `{"code": "...", "error": "..."}`. The official SDK's fixture has
 * `{"code":"not-found","error":"Batch not found"}` (404); refusals seen from the API use the gRPC status text as the
 * code, e.g. `{"code":"Client specified an invalid argument","error":"Incorrect API key provided: …"}` (400).
 * The codes of the other statuses are UNVERIFIED.
 */
const CODES: Record<number, string> = {
  400: "Client specified an invalid argument",
  401: "Request is missing valid authentication credentials",
  403: "Permission denied",
  404: "not-found",
  405: "Method not allowed",
  409: "Conflict",
  413: "Payload too large",
  429: "Too many requests",
};

export function xaiError(status: number, message: string) {
  return {
    code: CODES[status] ?? (status >= 500 ? "Internal error" : "Client specified an invalid argument"),
    error: message,
  };
}

/** A key as the API echoes it in a refusal: its first and last two characters. */
export function redactXaiKey(key: string): string {
  return key.length <= 6 ? "***" : `${key.slice(0, 2)}***${key.slice(-2)}`;
}
