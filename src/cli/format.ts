import type { BatchJob, BatchResult } from "../types.js";
import { forTerminal } from "./terminal.js";

export function statusLine(job: BatchJob): string {
  const done = job.completedRequests + job.failedRequests;
  return forTerminal(
    `${job.jobId}: ${job.status} (provider: ${job.providerStatus || "-"}) ${done}/${job.nRequests} done, ${job.failedRequests} failed`,
  );
}

export function resultSummary(result: BatchResult): string {
  if (result.status === "succeeded") {
    const usage = result.usage
      ? ` [${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens]`
      : "";
    return forTerminal(`${result.id}: ${result.text ?? ""}${usage}`);
  }
  return forTerminal(
    `${result.id}: ${result.status.toUpperCase()} ${result.error?.code ? `${result.error.code}: ` : ""}${result.error?.message ?? ""}`,
  );
}
