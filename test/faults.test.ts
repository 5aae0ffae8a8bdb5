import { readdir } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../src/index.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

async function leftoverTemporaryFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true });
  return entries.filter(
    (name) => name.includes(".tmp-") || name.includes(".staging-") || name.includes(".arrived."),
  );
}

describe("network faults on status and download are survived", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  async function finishedJob(jobId: string, count = 6) {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(count), jobId, provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    return client;
  }

  it.each([
    ["503", { kind: "status", status: 503 } as const],
    ["500", { kind: "status", status: 500 } as const],
    ["429 with retry-after", { kind: "status", status: 429, retryAfterSeconds: 0 } as const],
    ["a reset connection", { kind: "reset" } as const],
  ])("%s on status is retried with backoff", async (_label, action) => {
    const client = await finishedJob("status-fault");
    harness.emulator.faults.add({ method: "GET", path: /\/batches\/batch_/, action, times: 2 });
    const job = await client.monitorBatch("status-fault");
    expect(job.status).toBe("completed");
    const statusCalls = harness.emulator.requestLog.filter((entry) => /\/batches\/batch_/.test(entry.path));
    expect(statusCalls.at(-1)?.status).toBe(200);
  });

  it.each([
    ["503", { kind: "status", status: 503 } as const],
    ["429", { kind: "status", status: 429, retryAfterSeconds: 0 } as const],
  ])("%s on download is retried", async (_label, action) => {
    const client = await finishedJob("download-fault");
    harness.emulator.faults.add({ method: "GET", path: "/content", action, times: 2 });
    const results = await client.retrieveBatchResults("download-fault");
    expect(results.map((result) => result.status)).toEqual(Array(6).fill("succeeded"));
  });

  it("a download cut midway is read again without duplicate or missing results", async () => {
    const client = await finishedJob("cut", 40);
    harness.emulator.faults.add({
      method: "GET",
      path: "/content",
      action: { kind: "cut", afterBytes: 3_000 },
      times: 1,
    });
    const results = await client.retrieveBatchResults("cut");
    const contentCalls = harness.emulator.requestLog.filter((entry) => entry.path.endsWith("/content"));
    expect(contentCalls.map((entry) => entry.status)).toEqual([0, 200]);
    expect(results.map((result) => result.id)).toEqual(exampleRequests(40).map((request) => request.id));
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
  });

  it("a download that keeps failing leaves no half-written results and can be retried later", async () => {
    const client = await finishedJob("broken", 4);
    harness.emulator.faults.add({
      method: "GET",
      path: "/content",
      action: { kind: "status", status: 500 },
      times: 100,
    });
    await expect(client.retrieveBatchResults("broken")).rejects.toBeInstanceOf(ProviderError);
    expect(await client.hasResults("broken")).toBe(false);
    expect(await leftoverTemporaryFiles(harness.directory)).toEqual([]);
    harness.emulator.faults.clear();
    expect(await client.retrieveBatchResults("broken")).toHaveLength(4);
  });

  it("a batch creation whose answer is lost is found again, not created twice", async () => {
    const client = harness.client();
    harness.emulator.faults.add({
      method: "POST",
      path: /\/batches$/,
      action: { kind: "drop_response" },
      times: 1,
    });
    const job = await client.submitBatch({
      requests: exampleRequests(3),
      jobId: "lost-answer",
      provider: "openai",
    });
    expect(harness.emulator.batchCount("openai")).toBe(1);
    expect(job.providerBatchIds).toEqual([[...harness.emulator.providers.openai.batches.keys()][0]]);
    const creates = harness.emulator.requestLog.filter(
      (entry) => entry.method === "POST" && entry.path.endsWith("/batches"),
    );
    expect(creates.map((entry) => entry.status)).toEqual([0]);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.retrieveBatchResults("lost-answer")).toHaveLength(3);
  });

  it("a 5xx on batch creation that created nothing is retried once it is clear nothing exists", async () => {
    const client = harness.client();
    harness.emulator.faults.add({
      method: "POST",
      path: /\/batches$/,
      action: { kind: "status", status: 503 },
      times: 1,
    });
    await client.submitBatch({ requests: exampleRequests(2), jobId: "retry-create", provider: "openai" });
    expect(harness.emulator.batchCount("openai")).toBe(1);
  });

  it("a refused batch creation (400) is recorded on the job and reported", async () => {
    const client = harness.client();
    harness.emulator.faults.add({
      method: "POST",
      path: /\/batches$/,
      action: { kind: "status", status: 400 },
      times: 1,
    });
    await expect(
      client.submitBatch({ requests: exampleRequests(2), jobId: "refused", provider: "openai" }),
    ).rejects.toMatchObject({
      httpStatus: 400,
    });
    expect(harness.emulator.batchCount("openai")).toBe(0);
    const record = await client.getJob("refused");
    expect(record?.status).toBe("failed");
    expect(record?.shards[0]?.state).toBe("create_failed");
    const results = await client.retrieveBatchResults("refused");
    expect(results.map((result) => result.status)).toEqual(["failed", "failed"]);
    // Nothing to cancel: the one batch was never created, and its failure stays a failure.
    expect(await client.cancelBatch("refused")).toBe(false);
    expect((await client.getJob("refused"))?.status).toBe("failed");
  });
});
