import { ValidationError } from "../../errors.js";

const HOUR_MS = 60 * 60_000;
const SHORTEST_MS = 24 * HOUR_MS;
const LONGEST_MS = 7 * 24 * HOUR_MS;

/** A completion window such as "24h", "36h" or "7d" in milliseconds, or undefined when it is not one. */
export function completionWindowMs(window: string): number | undefined {
  const match = /^([1-9]\d{0,3})([hd])$/.exec(window);
  if (!match) return undefined;
  return Number(match[1]) * (match[2] === "d" ? 24 * HOUR_MS : HOUR_MS);
}

/** Whether Groq takes this completion window: hours or days from 24 hours to 7 days. */
export function isGroqCompletionWindow(window: string): boolean {
  const ms = completionWindowMs(window);
  return ms !== undefined && ms >= SHORTEST_MS && ms <= LONGEST_MS;
}

/** The configured completion window, checked before anything is sent; "24h" when none is configured. */
export function groqCompletionWindow(configured: unknown): string {
  if (configured === undefined) return "24h";
  if (typeof configured === "string" && isGroqCompletionWindow(configured)) return configured;
  throw new ValidationError(
    `Groq's completionWindow must be a duration from "24h" to "7d" written in hours or days ("24h", "48h", "7d"), ` +
      `not ${JSON.stringify(configured)}.`,
    "invalid_completion_window",
  );
}
