import type { ProviderAdapter } from "../providers/types.js";
import { nowIso } from "../workspace/job-record.js";
import type { JobHandle } from "./record.js";

/**
 * Deletes, batch by batch, what the provider keeps for a job whose results are stored and that Relay no longer
 * needs (uploaded input files, result files, or the batch itself), marking each batch cleaned as it goes, so that
 * doing it again deletes nothing twice. Returns what was deleted.
 */
export async function cleanupJob(job: JobHandle, adapter: ProviderAdapter): Promise<string[]> {
  const deleted: string[] = [];
  for (const shard of job.record.shards) {
    if (shard.cleaned_at || !shard.provider_batch_id || !adapter.deleteBatchFiles) continue;
    deleted.push(
      ...(await adapter.deleteBatchFiles({
        batchId: shard.provider_batch_id,
        inputFileId: shard.input_file_id,
        outputFileId: shard.output_file_id,
        errorFileId: shard.error_file_id,
      })),
    );
    shard.cleaned_at = nowIso();
    await job.save();
  }
  return deleted;
}
