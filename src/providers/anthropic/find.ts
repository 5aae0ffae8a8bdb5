import { asString } from "../shared/json.js";
import { CLOCK_SLACK_MS } from "../shared/paging.js";
import { countsOf } from "./status.js";

export interface CreationWindow {
  /** Earliest provider `created_at` (unix ms) a batch from the lost create call can have. */
  from: number;
  /** Latest one: the call was sent at `since` and gave up after the request timeout. */
  to: number;
}

export function creationWindow(since: number, timeoutMs: number): CreationWindow {
  return { from: since - CLOCK_SLACK_MS, to: since + timeoutMs + CLOCK_SLACK_MS };
}

export function createdAtOf(batch: unknown): number {
  const createdAt = asString((batch as { created_at?: unknown } | null)?.created_at);
  return createdAt === undefined ? Number.NaN : Date.parse(createdAt);
}

/**
 * The batch a lost create call most likely made, among batches listed by the provider: created inside the
 * window, holding exactly `nRequests` requests, and not already claimed by another shard. When several qualify,
 * the earliest wins (a retried create call comes after the first one). Returns null when none qualifies.
 */
export function pickCreatedBatch<T>(
  batches: Iterable<T>,
  options: { window: CreationWindow; nRequests: number; claimed: ReadonlySet<string> },
): T | null {
  let best: { batch: T; createdAt: number } | null = null;
  for (const batch of batches) {
    const id = asString((batch as { id?: unknown }).id);
    const createdAt = createdAtOf(batch);
    if (id === undefined || options.claimed.has(id)) continue;
    if (!(createdAt >= options.window.from && createdAt <= options.window.to)) continue;
    if (countsOf((batch as { request_counts?: unknown }).request_counts).total !== options.nRequests)
      continue;
    if (!best || createdAt < best.createdAt) best = { batch, createdAt };
  }
  return best?.batch ?? null;
}
