import { readStoredResults } from "../jobs/retrieval.js";
import type { JobStore } from "../jobs/store.js";
import { providerEntry } from "../providers/registry.js";
import type { JobRecord, StoredCostEstimate } from "../workspace/job-record.js";
import { type CostReport, CostTally } from "./tally.js";

/** A job's cost from its stored results (usage as the provider reported it) at batch prices. */
export interface JobCost extends CostReport {
  jobId: string;
  /** False while the results are not in the workspace: nothing is counted yet and costUsd is null. */
  resultsStored: boolean;
  /** The estimate made when the job was planned, if any. */
  estimate: StoredCostEstimate | null;
}

/**
 * Prices the usage of every stored result by the model that answered (or the job's one model where a result does
 * not say); cached input at the cache rate. Reads the results file once, as a stream.
 */
export async function jobCost(store: JobStore, record: JobRecord): Promise<JobCost> {
  const tally = new CostTally(providerEntry(record.provider));
  const resultsStored = await store.workspace.hasResults(record.job_id);
  if (resultsStored) {
    const models = new Set(record.shards.map((shard) => shard.model));
    const jobModel = models.size === 1 ? [...models][0] : null;
    for await (const result of readStoredResults(store, record.job_id)) {
      if (result.usage) tally.add(result.model ?? jobModel, result.usage);
    }
  }
  return {
    ...tally.report(),
    ...(resultsStored ? {} : { costUsd: null }),
    jobId: record.job_id,
    resultsStored,
    estimate: record.estimated_cost ?? null,
  };
}
