import { ProviderError } from "../../errors.js";
import { AmbiguousCreateError } from "../types.js";

interface SdkErrorShape {
  name?: string;
  status?: number;
  message?: string;
  error?: unknown;
}

function describe(error: unknown): { status: number | undefined; message: string; connection: boolean } {
  const shape = (error ?? {}) as SdkErrorShape;
  const connection = shape.name === "APIConnectionError" || shape.name === "APIConnectionTimeoutError";
  const status = typeof shape.status === "number" ? shape.status : undefined;
  return { status, message: shape.message ?? String(error), connection };
}

/** Turns an SDK or network error into a ProviderError that carries the HTTP status and no request details. */
/**
 * Google's APIs answer a wrong key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401; it is still a
 * refused key, which the user can put right.
 */
const REFUSED_KEY_MESSAGE = /API_KEY_INVALID|API key not valid/;

export function toProviderError(provider: string, action: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const { status, message, connection } = describe(error);
  const refusedKey =
    status === 401 || status === 403 || (status === 400 && REFUSED_KEY_MESSAGE.test(message));
  const hint = connection
    ? "the provider could not be reached; check the base URL and your network, then try again"
    : refusedKey
      ? "the API key was refused; check it"
      : status === 429
        ? "rate limited; wait and try again"
        : status !== undefined && status >= 500
          ? "the provider had a server error; try again later"
          : "see the message";
  return new ProviderError(provider, `${action} failed: ${message} (${hint})`, {
    ...(status === undefined ? {} : { httpStatus: status }),
    code: connection ? "provider_unreachable" : refusedKey ? "key_refused" : "provider_error",
  });
}

/**
 * After a failed batch creation (or another call that must not be repeated blindly, named by `action`): did it
 * perhaps take effect anyway? A refused request (4xx other than 408/409) certainly did nothing; a timeout, a dropped
 * connection or a server error may have.
 */
export function classifyCreateError(provider: string, error: unknown, action = "creating the batch"): Error {
  const { status, message, connection } = describe(error);
  const ambiguous =
    connection ||
    status === undefined ||
    status === 408 ||
    status === 409 ||
    (status !== undefined && status >= 500);
  if (ambiguous) return new AmbiguousCreateError(`${provider}: outcome of ${action} unknown: ${message}`);
  return toProviderError(provider, action, error);
}
