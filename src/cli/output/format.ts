import type { BatchJob, BatchResult } from "../../types.js";
import { sanitize } from "./sanitize.js";

/** One line for a job's status: `<job>: <status> (provider: <its status>) <done>/<total> done, <n> failed`. */
export function statusLine(job: BatchJob): string {
  const done = job.completedRequests + job.failedRequests;
  return sanitize(
    `${job.jobId}: ${job.status} (provider: ${job.providerStatus || "-"}) ${done}/${job.nRequests} done, ${job.failedRequests} failed`,
  );
}

/** A result for people: `<id>: <text> [<in> in / <out> out tokens]`, or its status and error; sanitised. */
export function resultSummary(result: BatchResult): string {
  const attempt = result.attempt && result.attempt.number > 0 ? ` (from ${result.attempt.jobId})` : "";
  if (result.status === "succeeded") {
    const usage = result.usage
      ? ` [${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens]`
      : "";
    let answer = result.text ?? "";
    if (!answer && result.toolCalls?.length) {
      answer = result.toolCalls.map((call) => `${call.name}(${JSON.stringify(call.arguments)})`).join(", ");
    }
    if (!answer && result.embedding) answer = `[embedding of ${result.embedding.length} dimensions]`;
    const text = sanitize(answer, { multiline: true }).replace(/\n/g, "\n  ");
    return `${sanitize(result.id)}: ${text}${usage}${sanitize(attempt)}`;
  }
  const error = `${result.error?.code ? `${result.error.code}: ` : ""}${result.error?.message ?? ""}`;
  return sanitize(`${result.id}: ${result.status.toUpperCase()} ${error}${attempt}`);
}

/** An ISO-8601 timestamp to the second (`2026-12-01T12:00:00Z`); anything unparseable is shown as it is. */
export function isoTimestamp(value: string | null | undefined): string {
  if (!value) return "-";
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An ISO-8601 date (`2026-12-01`). */
export function isoDate(value: string | null | undefined): string {
  if (!value) return "-";
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString().slice(0, 10);
}

/** US dollars with enough digits for batch-sized amounts; "unknown" for a cost Relay cannot price. */
export function money(costUsd: number | null | undefined): string {
  if (costUsd === null || costUsd === undefined) return "unknown";
  if (costUsd === 0) return "$0.00";
  if (costUsd >= 100) return `$${costUsd.toFixed(2)}`;
  if (costUsd >= 1) return `$${costUsd.toFixed(4)}`;
  return `$${costUsd.toFixed(6)}`;
}

/** A duration for people: `45s`, `3m 20s`, `2h 05m`, `1d 3h`. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** A whole number with thousands separators. */
export function count(value: number): string {
  return value.toLocaleString("en-US");
}
