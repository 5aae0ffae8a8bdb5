import type { JobRecord } from "../../workspace/job-record.js";

/** The earliest moment a batch of the job stops serving its results at the provider, if recorded. */
export function resultsDeadline(record: JobRecord): string | null {
  const deadlines = (record.shards ?? [])
    .map((shard) => shard?.results_expire_at)
    .filter((at): at is string => typeof at === "string" && at !== "")
    .sort();
  return deadlines[0] ?? null;
}

/** `done/failed/total`: requests that ran (succeeded or failed), those that failed, and all of them. */
export function doneFailedTotal(record: {
  completed_requests: number;
  failed_requests: number;
  n_requests: number;
}): string {
  return `${record.completed_requests + record.failed_requests}/${record.failed_requests}/${record.n_requests}`;
}
