import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingApiKeyError, ProviderError, ValidationError } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { batchAt, fileRecords } from "./support/openai-compatible.js";

const MODEL = "llama-3.1-8b-instant";
const HOUR_MS = 60 * 60_000;
const requests = (count: number): BatchRequest[] => exampleRequests(count, MODEL);

describe("Relay with Groq through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });
  const groq = () => harness.emulator.providers.groq;

  it("submits under /openai/v1, monitors through each status and retrieves results in request order", async () => {
    const client = harness.client();
    const input = requests(4);
    input[1] = { ...input[1], maxTokens: 300, providerArgs: { temperature: 0.2 } } as BatchRequest;
    const job = await client.submitBatch({ requests: input, jobId: "gq-1", provider: "groq" });
    expect(job).toMatchObject({ status: "pending", providerStatus: "validating", nRequests: 4 });
    expect(job.providerBatchIds[0]).toMatch(/^batch_01[0-9a-hjkmnp-tv-z]{24}$/);
    const paths = harness.emulator.requestLog.map((entry) => `${entry.method} ${entry.path}`);
    expect(paths).toEqual(["POST /groq/openai/v1/files", "POST /groq/openai/v1/batches"]);

    const batch = batchAt(groq());
    expect(batch).toMatchObject({ endpoint: "/v1/chat/completions", completionWindow: "24h" });
    expect(batch.metadata).toMatchObject({ relay_job_id: "gq-1", relay_shard: "0", relay_attempt: "0" });
    expect(fileRecords(groq(), batch.inputFileId)[1]).toEqual({
      custom_id: "req-2",
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: MODEL,
        messages: [
          { role: "system", content: "You are a helpful assistant." },
          { role: "user", content: "Question number 2: what is 1 + 1?" },
        ],
        max_completion_tokens: 300,
        temperature: 0.2,
      },
    });

    harness.clock.advance(600);
    expect(await client.monitorBatch("gq-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "in_progress",
    });
    harness.clock.advance(2_000);
    expect(await client.monitorBatch("gq-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "finalizing",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("gq-1")).toMatchObject({
      status: "completed",
      completedRequests: 4,
      failedRequests: 0,
    });

    const results = await client.retrieveBatchResults("gq-1");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    for (const result of results) {
      expect(result).toMatchObject({ status: "succeeded", finishReason: "stop" });
      expect(result.usage?.inputTokens).toBeGreaterThan(0);
      const raw = result.raw as { id: string; response: { body: { x_groq: { id: string } } } };
      expect(raw.id).toMatch(/^batch_req_out_01/);
      expect(raw.response.body.x_groq.id).toMatch(/^req_01/);
    }
    // Groq lists results out of input order; Relay put them back.
    const order = fileRecords(groq(), batch.outputFileId).map((line) => line.custom_id);
    expect([...order].sort()).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    expect(order).not.toEqual(["req-1", "req-2", "req-3", "req-4"]);
  });

  it("sends the configured completion window; the batch expires only when that window ends", async () => {
    const client = harness.client({
      providers: {
        groq: { apiKey: TEST_KEYS.groq, baseURL: harness.emulator.baseURL("groq"), completionWindow: "48h" },
      },
    });
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-3", "expire");
    harness.emulator.setFate("req-4", "error");
    await client.submitBatch({ requests: requests(5), jobId: "gq-window", provider: "groq" });
    expect(batchAt(groq()).completionWindow).toBe("48h");
    harness.clock.advance(25 * HOUR_MS);
    expect((await client.monitorBatch("gq-window")).status).toBe("in_progress");
    harness.clock.advance(24 * HOUR_MS);
    expect(await client.monitorBatch("gq-window")).toMatchObject({
      status: "expired",
      providerStatus: "expired",
    });
    const results = await client.retrieveBatchResults("gq-window");
    expect(results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      ["req-1", "succeeded", undefined],
      ["req-2", "failed", "emulated_failure"],
      ["req-3", "expired", "batch_expired"],
      ["req-4", "failed", "server_error"],
      ["req-5", "succeeded", undefined],
    ]);
  });

  it.each([["2h"], ["8d"], ["1w"], ["24 h"], [24]])(
    "refuses the completion window %j before anything is sent",
    async (completionWindow) => {
      const client = harness.client({
        providers: {
          groq: {
            apiKey: TEST_KEYS.groq,
            baseURL: harness.emulator.baseURL("groq"),
            completionWindow: completionWindow as string,
          },
        },
      });
      const attempt = client.submitBatch({ requests: requests(1), jobId: "gq-bad-window", provider: "groq" });
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({ code: "invalid_completion_window" });
      expect(harness.emulator.requestLog).toEqual([]);
      expect(await client.listJobs()).toEqual([]);
    },
  );

  it("cancels midway: finished requests keep their results, the rest come back cancelled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requests(4), jobId: "gq-cancel", provider: "groq" });
    harness.clock.advance(500 + 1_100);
    expect(await client.cancelBatch("gq-cancel")).toBe(true);
    expect((await client.monitorBatch("gq-cancel")).status).toBe("cancelling");
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("gq-cancel")).status).toBe("cancelled");
    const results = await client.retrieveBatchResults("gq-cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
  });

  it("splits a job over batches by the configured limit and watches them with one list call", async () => {
    const client = harness.client({
      providers: {
        groq: { apiKey: TEST_KEYS.groq, baseURL: harness.emulator.baseURL("groq"), maxRequestsPerBatch: 2 },
      },
    });
    const job = await client.submitBatch({ requests: requests(5), jobId: "gq-shards", provider: "groq" });
    expect(job.providerBatchIds).toHaveLength(3);
    expect(harness.emulator.batchCount("groq")).toBe(3);
    harness.clock.advance(ENOUGH_TIME_MS);
    const before = harness.emulator.requestLog.length;
    expect((await client.monitorBatch("gq-shards")).status).toBe("completed");
    const calls = harness.emulator.requestLog.slice(before);
    expect(calls.map((entry) => `${entry.method} ${entry.path}`)).toEqual(["GET /groq/openai/v1/batches"]);
    const results = await client.retrieveBatchResults("gq-shards");
    expect(results.map((result) => result.id)).toEqual(requests(5).map((request) => request.id));
  });

  it("a batch creation whose answer is lost is found by its metadata, not created twice", async () => {
    const client = harness.client();
    harness.emulator.faults.add({ method: "POST", path: /\/batches$/, action: { kind: "drop_response" } });
    const job = await client.submitBatch({ requests: requests(3), jobId: "gq-lost", provider: "groq" });
    expect(harness.emulator.batchCount("groq")).toBe(1);
    expect(job.providerBatchIds).toEqual([batchAt(groq()).sim.id]);
    const creates = harness.emulator.requestLog.filter((entry) => entry.path.endsWith("/batches"));
    expect(creates.map((entry) => `${entry.method} ${entry.status}`)).toEqual(["POST 0", "GET 200"]);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.retrieveBatchResults("gq-lost")).toHaveLength(3);
  });

  it("refuses an endpoint Groq batches do not take, before sending anything", async () => {
    const attempt = harness.client().submitBatch({
      requests: requests(1),
      jobId: "gq-endpoint",
      provider: "groq",
      endpoint: "/v1/responses",
    });
    await expect(attempt).rejects.toMatchObject({ code: "unsupported_endpoint" });
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("reads the key and the host-root base URL from GROQ_API_KEY and GROQ_BASE_URL", async () => {
    const client = harness.client({
      providers: {},
      env: { GROQ_API_KEY: TEST_KEYS.groq, GROQ_BASE_URL: `${harness.emulator.url}/groq/` },
    });
    await client.submitBatch({ requests: requests(1), jobId: "gq-env", provider: "groq" });
    expect(harness.emulator.batchCount("groq")).toBe(1);
  });

  it("a missing key is a MissingApiKeyError naming GROQ_API_KEY, and nothing is sent", async () => {
    const attempt = harness
      .client({ providers: {}, env: {} })
      .submitBatch({ requests: requests(1), jobId: "gq-nokey", provider: "groq" });
    await expect(attempt).rejects.toBeInstanceOf(MissingApiKeyError);
    await expect(attempt).rejects.toMatchObject({ envVar: "GROQ_API_KEY" });
    expect(harness.emulator.requestLog).toEqual([]);
  });
});

describe("Groq refusing a wrong key", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ apiKeys: { groq: "gsk_the-right-key" } });
  });
  afterEach(async () => {
    await harness.close();
  });

  it("reports the 401 as a ProviderError that says to check the key, and keeps the job to retry", async () => {
    const attempt = harness
      .client()
      .submitBatch({ requests: requests(2), jobId: "gq-401", provider: "groq" });
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 401,
      message: expect.stringContaining("Invalid API Key"),
    });
    expect(harness.emulator.batchCount("groq")).toBe(0);
    expect((await harness.client().getJob("gq-401"))?.shards[0]?.state).toBe("planned");
    const right = harness.client({
      providers: { groq: { apiKey: "gsk_the-right-key", baseURL: harness.emulator.baseURL("groq") } },
    });
    expect((await right.recover("gq-401")).providerBatchIds[0]).toMatch(/^batch_/);
  });
});
