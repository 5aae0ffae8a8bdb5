import { isFinished, type JobStatus } from "../types.js";

export interface RequestCounts {
  completed: number;
  failed: number;
}

/**
 * Request counts for a provider that reports only progress (the share processed, 0 to 1) and, once the batch has
 * ended, its failures:
 * - while it runs, every processed request counts as completed: which ones failed is only known at the end;
 * - once it has ended, completed = processed minus failures and failed = everything else (failed, expired,
 *   cancelled), the same split Relay records when it reads the results, so the counts do not jump at retrieval.
 */
export function countsFromProgress(
  status: JobStatus,
  progress: number,
  total: number,
  failures: number,
): RequestCounts {
  const share = status === "completed" ? 1 : Math.min(1, Math.max(0, progress));
  const processed = Math.round(total * share);
  if (!isFinished(status)) return { completed: processed, failed: 0 };
  const completed = Math.max(0, processed - failures);
  return { completed, failed: total - completed };
}
