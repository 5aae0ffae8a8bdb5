import { createHash, randomBytes } from "node:crypto";

/** Crockford's base32, lower case, as in Groq's IDs (`batch_01jpthgxffe8ms4zqdkf1aejjp`). */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function base32(bytes: Uint8Array, length: number): string {
  let text = "";
  for (let index = 0; index < length; index += 1) text += ALPHABET[(bytes[index] ?? 0) % 32];
  return text;
}

/** The 10-character time part of a ULID: milliseconds since the epoch, most significant first. */
function timePart(ms: number): string {
  let text = "";
  let rest = Math.floor(ms);
  for (let index = 0; index < 10; index += 1) {
    text = (ALPHABET[rest % 32] as string) + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

/** A new ULID-shaped ID: `prefix` + 26 characters. */
export function groqId(prefix: string, now: number): string {
  return `${prefix}${timePart(now)}${base32(randomBytes(16), 16)}`;
}

/** The same ULID-shaped ID for the same seed, so that a result file reads the same each time it is downloaded. */
export function seededGroqId(prefix: string, now: number, seed: string): string {
  return `${prefix}${timePart(now)}${base32(createHash("sha256").update(seed).digest(), 16)}`;
}
