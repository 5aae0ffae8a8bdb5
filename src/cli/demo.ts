import { RelayClient } from "../client.js";
import { Emulator } from "../emulator/index.js";
import { providerEntry } from "../providers/registry.js";
import type { BatchRequest, ProviderName } from "../types.js";
import { resultSummary, statusLine } from "./output/format.js";

/** The README's quick start, run end to end against the built-in emulator: no keys, no network. */
export async function runDemo(options: {
  provider: ProviderName;
  directory: string;
  log: (line: string) => void;
}) {
  const { provider, directory, log } = options;
  const apiKey = "emulator-demo-key";
  // The emulation accepts this key only, as a provider would.
  const emulator = await Emulator.start({
    timing: { validatingMs: 500, inProgressMs: 2_000, finalizingMs: 500 },
    apiKeys: { [provider]: apiKey },
  });
  try {
    log(`Emulator for ${provider} listening at ${emulator.baseURL(provider)}`);
    const client = new RelayClient({
      directory,
      providers: { [provider]: { apiKey, baseURL: emulator.baseURL(provider) } },
    });
    const model = providerEntry(provider).demoModel;
    const requests: BatchRequest[] = [
      {
        id: "req-1",
        model,
        systemPrompt: "You are a helpful assistant.",
        prompt: "Hello! What is 2+2?",
        providerArgs: {},
      },
      {
        id: "req-2",
        model,
        systemPrompt: "You are a helpful assistant.",
        prompt: "Name three primary colours.",
        maxTokens: 200,
      },
      { id: "req-3", model, prompt: "Write a haiku about batch processing." },
    ];
    const job = await client.submitBatch({
      requests,
      jobId: "my-batch-001",
      provider,
      description: "Example batch job",
      overwrite: true,
    });
    log(
      `Submitted job ${job.jobId} with ${job.nRequests} requests as ${provider} batch ${job.providerBatchIds.join(", ")}`,
    );
    const finished = await client.waitForBatch(job.jobId, {
      pollIntervalMs: 400,
      onStatus: (status) => log(statusLine(status)),
    });
    const results = await client.retrieveBatchResults(finished.jobId);
    log(`Results (${results.length}), in request order:`);
    for (const result of results) log(`  ${resultSummary(result)}`);
    log(
      `Workspace left at ${client.directory}: ${job.jobId}.json (the job) and ${job.jobId}_results.json (the results).`,
    );
    return results;
  } finally {
    await emulator.close();
  }
}
