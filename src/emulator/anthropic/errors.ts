import { randomBytes } from "node:crypto";

/** The `error.type` values Anthropic's API uses. */
const ERROR_TYPES = new Set([
  "invalid_request_error",
  "authentication_error",
  "billing_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "timeout_error",
  "api_error",
  "overloaded_error",
]);

const BY_STATUS: Record<number, string> = {
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** The error type for a status, unless the code given is already one of Anthropic's types. */
export function errorType(status: number, code: string): string {
  if (ERROR_TYPES.has(code)) return code;
  return BY_STATUS[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

export function newRequestId(): string {
  return `req_${randomBytes(12).toString("hex")}`;
}

/** `{"type":"error","error":{"type","message"},"request_id"}`, as every Anthropic error response. */
export function anthropicError(status: number, code: string, message: string, requestId: string) {
  return { type: "error", error: { type: errorType(status, code), message }, request_id: requestId };
}
