/**
 * The API keys this process was configured with, so that none of them reaches anything Relay stores, prints or
 * throws, even when a provider or a proxy repeats the key in an error body. Process-wide on purpose: an error
 * built anywhere (an adapter, the HTTP layer, the workspace) is redacted without being handed the keys.
 */
const secrets = new Set<string>();

/** Keys shorter than this are not redacted: replacing a few common characters everywhere would garble text. */
export const MIN_REDACTED_LENGTH = 8;

export const REDACTED = "[redacted API key]";

export function rememberSecret(secret: string | undefined): void {
  if (typeof secret === "string" && secret.trim().length >= MIN_REDACTED_LENGTH) secrets.add(secret.trim());
}

/** The text with every remembered key replaced. */
export function redactSecrets(text: string): string {
  let redacted = text;
  for (const secret of secrets) {
    if (redacted.includes(secret)) redacted = redacted.replaceAll(secret, REDACTED);
  }
  return redacted;
}

/** Serialised JSON (a results line) with every remembered key replaced, kept as bytes when there is none. */
export function redactBytes(bytes: Buffer): Buffer {
  for (const secret of secrets) {
    if (bytes.includes(secret)) return Buffer.from(redactSecrets(bytes.toString("utf8")));
  }
  return bytes;
}

/** An error's message and stack with every remembered key replaced, through its causes. */
export function redactError<T>(error: T): T {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const redactedMessage = redactSecrets(current.message);
    if (redactedMessage !== current.message) current.message = redactedMessage;
    if (typeof current.stack === "string") current.stack = redactSecrets(current.stack);
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}
