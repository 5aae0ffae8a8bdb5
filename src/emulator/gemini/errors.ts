import { HttpError } from "../http.js";

/** The canonical status names Google APIs give with each HTTP status. */
const STATUS_OF_HTTP: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};
const STATUS_NAMES = new Set([
  ...Object.values(STATUS_OF_HTTP),
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
]);

/** google.rpc.Code numbers, for the Status objects inside operations and result lines. */
export const RPC = { CANCELLED: 1, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, INTERNAL: 13 } as const;

/**
 * `{"error": {"code": <HTTP status>, "message", "status": <canonical name>, "details"?}}`, the body of every
 * Google API error. `code` may already be a canonical name (FAILED_PRECONDITION answers 400, for one).
 */
export function googleError(httpStatus: number, code: string, message: string, details?: unknown[]) {
  const status = STATUS_NAMES.has(code)
    ? code
    : (STATUS_OF_HTTP[httpStatus] ?? (httpStatus >= 500 ? "INTERNAL" : "UNKNOWN"));
  return { error: { code: httpStatus, message, status, ...(details ? { details } : {}) } };
}

export const invalid = (message: string) => new HttpError(400, "INVALID_ARGUMENT", message);
export const notFound = (message: string) => new HttpError(404, "NOT_FOUND", message);

/** How the API refuses a field it does not know (proto JSON parsing). */
export function unknownField(name: string, where: string): string {
  return `Invalid JSON payload received. Unknown name "${name}" at '${where}': Cannot find field.`;
}
