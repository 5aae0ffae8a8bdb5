import { redactSecrets } from "../../util/secrets.js";

/** Told each time a call to a provider failed in a way that is retried (timeout, lost connection, 429, 5xx). */
export interface RetryNotice {
  provider: string;
  /** What failed and that it is being tried again, for people. */
  message: string;
}

export type RetryListener = (notice: RetryNotice) => void;

/** Calls the listener without letting it break the call being retried. */
export function notifyRetry(listener: RetryListener | undefined, provider: string, message: string): void {
  if (!listener) return;
  try {
    listener({ provider, message: redactSecrets(message) });
  } catch {
    // A listener's failure is its own business.
  }
}

/**
 * Logging options for a Stainless-generated SDK (openai, @anthropic-ai/sdk) that turn its "retrying" log lines into
 * retry notices; none when nobody listens, so the SDK logs as it always does.
 */
export function sdkRetryLogging(
  provider: string,
  listener: RetryListener | undefined,
):
  | { logLevel: "info"; logger: Record<"error" | "warn" | "info" | "debug", (message: string) => void> }
  | object {
  if (!listener) return {};
  return {
    logLevel: "info",
    logger: {
      error: (message: string) => console.error(redactSecrets(String(message))),
      warn: (message: string) => console.warn(redactSecrets(String(message))),
      info: (message: string) => {
        const text = String(message);
        // The SDK's lines start with a local correlation id in brackets; the rest says what failed.
        if (/retrying/.test(text)) notifyRetry(listener, provider, text.replace(/^\[[^\]]*\]\s*/, ""));
      },
      debug: () => {},
    },
  };
}
