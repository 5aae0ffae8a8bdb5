/**
 * One Relay run, end to end, in its own process: submit n requests generated as an async iterable (never an array),
 * wait for the job, then stream every result back and check it.
 */
import { type BatchRequest, RelayClient } from "relay-llm";
import { runChild } from "./measure.js";
import { ENDPOINT, idOf, MODEL, promptOf } from "./workload.js";

async function* requests(n: number): AsyncGenerator<BatchRequest> {
  for (let index = 0; index < n; index += 1) yield { id: idOf(index), model: MODEL, prompt: promptOf(index) };
}

await runChild("relay", async (config, recorder) => {
  const { size, workspace, proxy } = config;
  if (!workspace || !proxy) throw new Error("the Relay run needs a workspace and the proxy");
  const jobId = config.jobId ?? "bench";
  const client = new RelayClient({
    directory: workspace,
    providers: {
      openai: {
        apiKey: "bench",
        baseURL: `${proxy}/openai/v1`,
        ...(config.maxRequestsPerBatch ? { maxRequestsPerBatch: config.maxRequestsPerBatch } : {}),
      },
    },
    // Never read OPENAI_BASE_URL or a real key from the environment: everything goes to the emulator.
    env: {},
  });

  const submitted = await recorder.phase("submit", () =>
    client.submitBatch({ requests: requests(size), jobId, provider: "openai", endpoint: ENDPOINT }),
  );
  recorder.notes.push(
    `submitted as ${submitted.providerBatchIds.length} batch(es); status after submit: ${submitted.status}`,
  );

  const finished = await recorder.phase("monitor", () =>
    client.waitForBatch(jobId, { pollIntervalMs: config.pollIntervalMs ?? 1000 }),
  );
  if (finished.status !== "completed") recorder.notes.push(`job finished as ${finished.status}`);

  const check = { results: 0, outOfOrder: 0, notSucceeded: 0, missing: 0, duplicates: 0 };
  await recorder.phase("retrieve", async () => {
    for await (const result of client.streamResults(jobId)) {
      if (result.id !== idOf(check.results)) check.outOfOrder += 1;
      if (result.status !== "succeeded") check.notSucceeded += 1;
      check.results += 1;
    }
  });
  check.missing = Math.max(0, size - check.results);
  return { check };
});
