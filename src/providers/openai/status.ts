import type { JobStatus } from "../../types.js";

const STATUSES: Record<string, JobStatus> = {
  validating: "pending",
  in_progress: "in_progress",
  finalizing: "in_progress",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelling: "cancelling",
  cancelled: "cancelled",
};

/** OpenAI batch statuses (also Groq's and Azure's, which may capitalise them). */
export function normaliseOpenAIStatus(status: string): JobStatus {
  return STATUSES[status.toLowerCase()] ?? "in_progress";
}
