import { ValidationError } from "../../errors.js";

/** A base URL must be an absolute http(s) URL; anything else is refused before a job is stored. */
export function checkBaseURL(name: string, value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ValidationError(
      `${name} must be an http:// or https:// URL, not ${JSON.stringify(value)}.`,
      "invalid_option",
    );
  }
  return value as string;
}
