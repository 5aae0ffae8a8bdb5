/**
 * One embeddings job, end to end, in its own process: n texts submitted as an async iterable, the job waited for,
 * then every vector streamed back and checked (length, order).
 */
import { type EmbeddingRequest, RelayClient } from "relay-llm";
import { runChild } from "./measure.js";
import { idOf } from "./workload.js";

export const EMBEDDING_MODEL = "text-embedding-3-small";
export const DIMENSIONS = 1536;

async function* texts(n: number): AsyncGenerator<EmbeddingRequest> {
  for (let index = 0; index < n; index += 1) {
    yield {
      id: idOf(index),
      model: EMBEDDING_MODEL,
      input: `Passage ${index}: the quick brown fox, take ${index % 97}.`,
    };
  }
}

await runChild("relay-embeddings", async (config, recorder) => {
  const { size, workspace, emulator } = config;
  if (!workspace || !emulator) throw new Error("the embeddings run needs a workspace and the emulator");
  const jobId = config.jobId ?? "embeddings";
  const client = new RelayClient({
    directory: workspace,
    providers: { openai: { apiKey: "bench", baseURL: `${emulator}/openai/v1` } },
    env: {},
  });
  const submitted = await recorder.phase("submit", () =>
    client.submitBatch({ kind: "embeddings", requests: texts(size), jobId, provider: "openai" }),
  );
  recorder.notes.push(`submitted as ${submitted.providerBatchIds.length} batch(es)`);
  await recorder.phase("monitor", () => client.waitForBatch(jobId, { pollIntervalMs: 500 }));
  const check = { results: 0, outOfOrder: 0, notSucceeded: 0, missing: 0, duplicates: 0 };
  let wrongLength = 0;
  await recorder.phase("retrieve", async () => {
    // The first result needs the whole fetch: download, spill, then the ordered results file.
    const stream = client.streamResults(jobId);
    await stream.next();
    await stream.return(undefined);
  });
  await recorder.phase("read", async () => {
    for await (const result of client.streamResults(jobId)) {
      if (result.id !== idOf(check.results)) check.outOfOrder += 1;
      if (result.status !== "succeeded") check.notSucceeded += 1;
      if (result.embedding?.length !== DIMENSIONS) wrongLength += 1;
      check.results += 1;
    }
  });
  if (wrongLength > 0) recorder.notes.push(`${wrongLength} vectors of the wrong length`);
  check.missing = Math.max(0, size - check.results);
  return { check };
});
