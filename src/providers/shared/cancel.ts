import { isFinished } from "../../types.js";
import type { ProviderBatch } from "../types.js";

/** The HTTP status of a failed call, whichever error type carries it (Relay's, the HTTP client's, an SDK's). */
function statusOf(error: unknown): number | undefined {
  const shape = (error ?? {}) as { httpStatus?: unknown; status?: unknown };
  if (typeof shape.httpStatus === "number") return shape.httpStatus;
  return typeof shape.status === "number" ? shape.status : undefined;
}

/**
 * Cancels a batch; when the provider refuses (400 or 409) because the batch ended between the last status check
 * and the cancel, or an earlier retried cancel went through, the batch is reported as it is instead.
 */
export async function cancelUnlessEnded(
  cancel: () => Promise<ProviderBatch>,
  current: () => Promise<ProviderBatch>,
): Promise<ProviderBatch> {
  try {
    return await cancel();
  } catch (error) {
    const status = statusOf(error);
    if (status === 400 || status === 409) {
      const batch = await current();
      if (isFinished(batch.status)) return batch;
    }
    throw error;
  }
}
