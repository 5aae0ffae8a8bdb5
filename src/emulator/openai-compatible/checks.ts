import { HttpError, type MultipartPart } from "../http.js";

/** Batch metadata as OpenAI takes it: at most 16 pairs, keys up to 64 characters, string values up to 512. */
export function checkMetadata(metadata: unknown): Record<string, string> | null {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new HttpError(400, "invalid_type", "metadata must be an object");
  }
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw new HttpError(400, "invalid_metadata", "metadata may hold at most 16 pairs");
  for (const [key, value] of entries) {
    if (key.length > 64 || typeof value !== "string" || value.length > 512) {
      throw new HttpError(
        400,
        "invalid_metadata",
        "metadata keys are at most 64 characters, values strings of at most 512",
      );
    }
  }
  return metadata as Record<string, string>;
}

/** The seconds-from-creation range a dialect allows for file expiries. */
export interface ExpiryRange {
  min: number;
  max: number;
}

/** An `{anchor: "created_at", seconds}` expiry checked against the range; seconds, or undefined when absent. */
export function checkExpiry(value: unknown, range: ExpiryRange, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const expiry = value as { anchor?: unknown; seconds?: unknown };
  const seconds = typeof expiry.seconds === "string" ? Number(expiry.seconds) : expiry.seconds;
  if (typeof value !== "object" || Array.isArray(value) || expiry.anchor !== "created_at") {
    throw new HttpError(400, "invalid_value", `${name}.anchor must be 'created_at'.`);
  }
  if (
    typeof seconds !== "number" ||
    !Number.isInteger(seconds) ||
    seconds < range.min ||
    seconds > range.max
  ) {
    throw new HttpError(
      400,
      "invalid_value",
      `${name}.seconds must be an integer from ${range.min} to ${range.max}.`,
    );
  }
  return seconds;
}

/**
 * A multipart upload's `expires_after`: the fields `expires_after[anchor]` / `expires_after[seconds]` (as the
 * SDKs encode nested values) or `expires_after.anchor` / `expires_after.seconds` (as Azure's REST samples send them).
 */
export function uploadExpiry(parts: readonly MultipartPart[]): unknown {
  const field = (name: string) =>
    parts
      .find((part) => part.name === `expires_after[${name}]` || part.name === `expires_after.${name}`)
      ?.data.toString("utf8");
  const anchor = field("anchor");
  const seconds = field("seconds");
  return anchor === undefined && seconds === undefined ? undefined : { anchor, seconds };
}
