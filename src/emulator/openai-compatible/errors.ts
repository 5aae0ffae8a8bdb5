import type { IncomingMessage } from "node:http";

/** A key as providers echo it in a 401: its first and last few characters only. */
export function redactKey(key: string): string {
  return key.length <= 8
    ? "****"
    : `${key.slice(0, 3)}${"*".repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}

/** OpenAI's error body, also used by the OpenAI-compatible providers. */
export function openAIErrorBody(status: number, code: string, message: string) {
  const type =
    status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  return { error: { message, type, param: null, code } };
}

/** The bearer token of a request, if it carries one. */
export function bearerKey(authorization: string | undefined): string | undefined {
  return /^Bearer (\S+)/.exec(authorization ?? "")?.[1];
}

/** Null when the request carries an accepted bearer key; else the provider's 401 for the key it carried, if any. */
export function bearerRefusal(
  request: IncomingMessage,
  acceptsKey: (key: string) => boolean,
  refusal: (key: string | undefined) => unknown,
): { status: number; body: unknown } | null {
  const key = bearerKey(request.headers.authorization);
  return key !== undefined && acceptsKey(key) ? null : { status: 401, body: refusal(key) };
}
