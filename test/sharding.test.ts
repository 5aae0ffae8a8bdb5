import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eachRequest } from "../src/emulator/engine.js";
import type { BatchRequest, ProviderConfig } from "../src/index.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

describe("a job split over several provider batches", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const clientWith = (limits: ProviderConfig, extra = {}) =>
    harness.client({
      providers: {
        openai: {
          apiKey: "sk-shard-test",
          baseURL: harness.emulator.baseURL("openai"),
          maxRetries: 2,
          ...limits,
        },
      },
      ...extra,
    });

  it("splits by request count, aggregates status and counts, and merges results in request order", async () => {
    const client = clientWith({ maxRequestsPerBatch: 4 });
    harness.emulator.setFate("req-6", "fail");
    const requests = exampleRequests(10);
    const job = await client.submitBatch({ requests, jobId: "split", provider: "openai" });
    expect(job.providerBatchIds).toHaveLength(3);
    expect(harness.emulator.batchCount("openai")).toBe(3);
    const record = await client.getJob("split");
    expect(record?.shards.map((shard) => shard.n_requests)).toEqual([4, 4, 2]);

    harness.clock.advance(ENOUGH_TIME_MS);
    const done = await client.monitorBatch("split");
    expect(done).toMatchObject({
      status: "completed",
      nRequests: 10,
      completedRequests: 9,
      failedRequests: 1,
    });
    const results = await client.retrieveBatchResults("split");
    expect(results.map((result) => result.id)).toEqual(requests.map((request) => request.id));
    expect(results.filter((result) => result.status === "failed").map((result) => result.id)).toEqual([
      "req-6",
    ]);
  });

  it("puts one model per batch and still returns results in the order given", async () => {
    const client = harness.client();
    const requests: BatchRequest[] = exampleRequests(7).map((request, index) => ({
      ...request,
      model: index % 3 === 0 ? "gpt-4o" : "gpt-4o-mini",
    }));
    await client.submitBatch({ requests, jobId: "models", provider: "openai" });
    const batches = [...harness.emulator.providers.openai.batches.values()];
    expect(
      batches.map((batch) => [...eachRequest(batch.sim.requests)].map((request) => request.customId)).sort(),
    ).toEqual([
      ["req-1", "req-4", "req-7"],
      ["req-2", "req-3", "req-5", "req-6"],
    ]);
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("models");
    expect(results.map((result) => result.id)).toEqual(requests.map((request) => request.id));
    results.forEach((result, index) => {
      expect(result.text).toContain(`[${requests[index]?.model} emulated`);
    });
  });

  it("splits by bytes when the requests are large", async () => {
    const client = clientWith({ maxBytesPerBatch: 5_000 });
    const requests = exampleRequests(6).map((request) => ({
      ...request,
      prompt: `${request.prompt} ${"x".repeat(1_500)}`,
    }));
    await client.submitBatch({ requests, jobId: "bytes", provider: "openai" });
    const record = await client.getJob("bytes");
    expect(record?.shards.length).toBe(3);
    for (const shard of record?.shards ?? []) expect(shard.bytes).toBeLessThanOrEqual(5_000);
    const uploads = harness.emulator.providers.openai.files.list().filter((file) => file.purpose === "batch");
    for (const file of uploads) expect(file.bytes).toBeLessThanOrEqual(5_000);
  });

  it("submits a shard again when the provider refuses it with token_limit_exceeded, losing nothing", async () => {
    const client = clientWith({ maxRequestsPerBatch: 2 }, { requeueDelayMs: 0 });
    // Room for one batch of two requests at a time.
    harness.emulator.providers.openai.enqueuedTokenLimit = 20;
    const requests = exampleRequests(6);
    await client.submitBatch({ requests, jobId: "budget", provider: "openai" });
    harness.clock.advance(600);
    let job = await client.monitorBatch("budget");
    let record = await client.getJob("budget");
    // Shards go out concurrently: whichever got in first runs, the other two were refused and wait to go again.
    expect(record?.shards.map((shard) => shard.attempt).sort()).toEqual([0, 1, 1]);
    for (const shard of record?.shards ?? []) expect(shard.previous_batch_ids).toHaveLength(shard.attempt);

    for (let round = 0; round < 10 && job.status !== "completed"; round += 1) {
      harness.clock.advance(ENOUGH_TIME_MS);
      job = await client.monitorBatch("budget");
    }
    expect(job.status).toBe("completed");
    record = await client.getJob("budget");
    expect(record?.shards.every((shard) => shard.status === "completed")).toBe(true);
    const results = await client.retrieveBatchResults("budget");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requests.map((request) => [request.id, "succeeded"]),
    );
    const refused = [...harness.emulator.providers.openai.batches.values()].filter(
      (batch) => batch.sim.validationError,
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((batch) => batch.sim.validationError?.code === "token_limit_exceeded")).toBe(true);
  });

  it("keeps the workspace's running batches within an enqueued-token budget, across jobs, submitting the rest as room frees", async () => {
    // 30 prompt tokens a request by gpt-4o-mini's tokenizer: shards of two (60) fit a budget of 130 twice, not three times.
    const client = clientWith({ maxRequestsPerBatch: 2, enqueuedTokenBudget: 130 });
    harness.emulator.providers.openai.enqueuedTokenLimit = 36; // the emulator's own count is lower; two shards fit it exactly
    await client.submitBatch({ requests: exampleRequests(6), jobId: "first", provider: "openai" });
    expect(harness.emulator.batchCount("openai")).toBe(2);
    const record = await client.getJob("first");
    expect(record?.shards.map((shard) => shard.state)).toEqual(["created", "created", "planned"]);
    expect(record?.shards.every((shard) => shard.estimated_tokens === 60)).toBe(true);

    // A second job shares the budget: nothing of it goes out while the first job fills it.
    const second = await client.submitBatch({
      requests: exampleRequests(2),
      jobId: "second",
      provider: "openai",
    });
    expect(second.providerBatchIds).toEqual([null]);
    expect(harness.emulator.batchCount("openai")).toBe(2);

    for (let round = 0; round < 10; round += 1) {
      harness.clock.advance(ENOUGH_TIME_MS);
      const [a, b] = [await client.monitorBatch("first"), await client.monitorBatch("second")];
      if (a.status === "completed" && b.status === "completed") break;
    }
    expect((await client.monitorBatch("first")).status).toBe("completed");
    expect((await client.monitorBatch("second")).status).toBe("completed");
    const refused = [...harness.emulator.providers.openai.batches.values()].filter(
      (batch) => batch.sim.validationError,
    );
    expect(refused).toEqual([]);
    expect(harness.emulator.batchCount("openai")).toBe(4);
    expect((await client.retrieveBatchResults("first")).map((result) => result.status)).toEqual(
      Array(6).fill("succeeded"),
    );
  });

  it("cancelling a job whose shards wait for the budget cancels them before they are ever sent", async () => {
    const client = clientWith({ maxRequestsPerBatch: 2, enqueuedTokenBudget: 130 });
    await client.submitBatch({ requests: exampleRequests(6), jobId: "stop", provider: "openai" });
    expect(harness.emulator.batchCount("openai")).toBe(2);
    expect(await client.cancelBatch("stop")).toBe(true);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("stop")).status).toBe("cancelled");
    expect(harness.emulator.batchCount("openai")).toBe(2);
    const results = await client.retrieveBatchResults("stop");
    expect(results.slice(4).map((result) => [result.status, result.error?.code])).toEqual([
      ["cancelled", "batch_cancelled"],
      ["cancelled", "batch_cancelled"],
    ]);
  });

  it("sizes shards to fit the token budget", async () => {
    // 30 tokens a request: two fit 65, three do not.
    const client = clientWith({ enqueuedTokenBudget: { "gpt-4o-mini": 65 } });
    await client.submitBatch({ requests: exampleRequests(6), jobId: "sized", provider: "openai" });
    const record = await client.getJob("sized");
    expect(record?.shards.map((shard) => shard.n_requests)).toEqual([2, 2, 2]);
    expect(record?.shards.every((shard) => shard.estimated_tokens <= 65)).toBe(true);
  });

  it.each(["openai", "anthropic", "together"] as const)(
    "%s: watching many batches costs one list call per check, not one call per batch",
    async (provider) => {
      const model = {
        openai: "gpt-4o-mini",
        anthropic: "claude-sonnet-4-5",
        together: "meta-llama/Llama-3-8b",
      }[provider];
      const client = harness.client({
        providers: {
          [provider]: { apiKey: "k", baseURL: harness.emulator.baseURL(provider), maxRequestsPerBatch: 2 },
        },
      });
      await client.submitBatch({ requests: exampleRequests(10, model), jobId: "watch", provider });
      harness.clock.advance(600);
      const before = harness.emulator.requestLog.length;
      const job = await client.monitorBatch("watch");
      expect(job.providerBatchIds).toHaveLength(5);
      const calls = harness.emulator.requestLog.slice(before).filter((entry) => /batches/.test(entry.path));
      expect(calls.map((entry) => entry.method)).toEqual(["GET"]);
      expect(calls[0]?.path).toMatch(/batches$/);
      harness.clock.advance(ENOUGH_TIME_MS);
      expect((await client.monitorBatch("watch")).status).toBe("completed");
    },
  );

  it("streams results without materialising them, in request order", async () => {
    const client = clientWith({ maxRequestsPerBatch: 3 });
    async function* requests() {
      for (const request of exampleRequests(8)) yield request;
    }
    await client.submitBatch({ requests: requests(), jobId: "stream", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const ids: string[] = [];
    for await (const result of client.streamResults("stream")) ids.push(result.id);
    expect(ids).toEqual(exampleRequests(8).map((request) => request.id));
  });
});
