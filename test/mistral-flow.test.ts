import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingApiKeyError, ValidationError } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

const MODEL = "mistral-small-latest";
const DAY_MS = 24 * 60 * 60_000;

const requestsFor = (count: number, model = MODEL) => exampleRequests(count, model);

describe("Relay with Mistral through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const log = (pattern: RegExp, method?: string) =>
    harness.emulator.requestLog.filter(
      (entry) => pattern.test(entry.path) && (!method || entry.method === method),
    );
  const mistral = () => harness.emulator.providers.mistral;

  it("uploads a file, creates a tagged job, monitors it through each status and retrieves results in order", async () => {
    const client = harness.client();
    const requests = requestsFor(4);
    requests[1] = { ...requests[1], maxTokens: 300, providerArgs: { temperature: 0.2 } } as BatchRequest;
    const job = await client.submitBatch({
      requests,
      jobId: "ms-1",
      provider: "mistral",
      description: "first",
    });
    expect(job).toMatchObject({
      status: "pending",
      providerStatus: "QUEUED",
      nRequests: 4,
      completedRequests: 0,
    });
    expect(log(/^\/mistral\/v1\/files$/, "POST").map((entry) => entry.status)).toEqual([200]);
    expect(log(/^\/mistral\/v1\/batch\/jobs$/, "POST").map((entry) => entry.status)).toEqual([200]);

    // The job names the model and carries Relay's tags; the file holds {custom_id, body} lines without a model.
    const record = await client.getJob("ms-1");
    const shard = record?.shards[0];
    const batch = mistral().batches.get(shard?.provider_batch_id ?? "");
    expect(batch).toMatchObject({
      model: MODEL,
      inputFiles: [shard?.input_file_id],
      metadata: {
        relay_job_id: "ms-1",
        relay_shard: "0",
        relay_submission: record?.submission_id,
        relay_attempt: "0",
      },
    });
    expect(batch?.sim.timing.expiresAfterMs).toBe(DAY_MS);
    const file = mistral().files.get(shard?.input_file_id ?? "");
    expect(file).toMatchObject({ purpose: "batch", sampleType: "batch_request", numLines: 4 });
    const lines = [...mistral().files.contentLines(file)].map((line) => JSON.parse(line));
    expect(lines[1]).toEqual({
      custom_id: "req-2",
      body: {
        messages: [
          { role: "system", content: "You are a helpful assistant." },
          { role: "user", content: "Question number 2: what is 1 + 1?" },
        ],
        max_tokens: 300,
        temperature: 0.2,
      },
    });

    // Requests finish at 1000, 1500, 2000 and 2500 ms: at 1600 ms, two of four are done.
    harness.clock.advance(1_600);
    expect(await client.monitorBatch("ms-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "RUNNING",
      completedRequests: 2,
      failedRequests: 0,
    });

    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("ms-1")).toMatchObject({
      status: "completed",
      providerStatus: "SUCCESS",
      completedRequests: 4,
      failedRequests: 0,
    });
    const results = await client.retrieveBatchResults("ms-1");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    for (const [index, result] of results.entries()) {
      expect(result.status).toBe("succeeded");
      expect(result.text).toContain(`Question number ${index + 1}`);
      expect(result.finishReason).toBe("stop");
      expect(result.usage?.inputTokens).toBeGreaterThan(0);
      expect(result.raw).toMatchObject({ custom_id: result.id, response: { status_code: 200 }, error: null });
    }
    expect(await client.getResults("ms-1")).toEqual(results);
  });

  it("retrieves mixed fates: succeeded, failed, errored, refused by the endpoint and expired, each in its place", async () => {
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-3", "error");
    harness.emulator.setFate("req-4", "expire");
    const requests = requestsFor(6);
    // Mistral forbids fields it does not know: this request fails alone, with the endpoint's 422.
    requests[5] = { ...requests[5], providerArgs: { max_completion_tokens: 10 } } as BatchRequest;
    const client = harness.client();
    await client.submitBatch({ requests, jobId: "ms-mixed", provider: "mistral" });

    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("ms-mixed")).toMatchObject({
      status: "in_progress",
      providerStatus: "RUNNING",
      completedRequests: 2,
      failedRequests: 3,
    });
    await expect(client.retrieveBatchResults("ms-mixed")).rejects.toMatchObject({ code: "job_not_finished" });

    harness.clock.advance(DAY_MS);
    expect(await client.monitorBatch("ms-mixed")).toMatchObject({
      status: "expired",
      providerStatus: "TIMEOUT_EXCEEDED",
    });
    const results = await client.retrieveBatchResults("ms-mixed");
    expect(results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      ["req-1", "succeeded", undefined],
      ["req-2", "failed", "emulated_failure"],
      ["req-3", "failed", "server_error"],
      ["req-4", "expired", "batch_expired"],
      ["req-5", "succeeded", undefined],
      ["req-6", "failed", "invalid_request_error"],
    ]);
    expect(results[5]?.error?.message).toBe("body.max_completion_tokens: Extra inputs are not permitted");
    expect(results[1]?.raw).toMatchObject({ custom_id: "req-2", response: { status_code: 400 } });
    expect(results[3]?.raw).toBeNull();
    expect(await client.monitorBatch("ms-mixed")).toMatchObject({ completedRequests: 2, failedRequests: 4 });
  });

  it("cancels a job midway: finished requests keep their results, the rest are cancelled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(4), jobId: "ms-cancel", provider: "mistral" });
    harness.clock.advance(1_600);
    expect(await client.cancelBatch("ms-cancel")).toBe(true);
    expect(await client.getJob("ms-cancel")).toMatchObject({
      status: "cancelling",
      provider_status: "CANCELLATION_REQUESTED",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("ms-cancel")).toMatchObject({
      status: "cancelled",
      providerStatus: "CANCELLED",
    });
    expect(await client.cancelBatch("ms-cancel")).toBe(false);
    const results = await client.retrieveBatchResults("ms-cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
  });

  it("a cancel that meets an ended job reports the job as it is", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(2), jobId: "ms-late-cancel", provider: "mistral" });
    harness.clock.advance(ENOUGH_TIME_MS);
    // The job has ended at the provider, but the workspace has not seen it yet: Mistral refuses the cancel.
    await client.cancelBatch("ms-late-cancel");
    expect(log(/\/cancel$/, "POST").map((entry) => entry.status)).toEqual([400]);
    expect(await client.getJob("ms-late-cancel")).toMatchObject({
      status: "completed",
      provider_status: "SUCCESS",
    });
  });

  it("splits a job by the batch limits, and watches its jobs with one listing across pages", async () => {
    const client = harness.client({
      providers: {
        mistral: {
          apiKey: TEST_KEYS.mistral,
          baseURL: harness.emulator.baseURL("mistral"),
          maxRequestsPerBatch: 2,
        },
      },
    });
    const job = await client.submitBatch({
      requests: requestsFor(5),
      jobId: "ms-shards",
      provider: "mistral",
    });
    expect(job.providerBatchIds).toHaveLength(3);
    expect(mistral().batches.size).toBe(3);

    // 120 newer jobs push this job's three onto the second page of the listing (100 a page, newest first).
    const other = { messages: [{ role: "user", content: "other" }] };
    for (let index = 0; index < 120; index += 1) {
      const response = await fetch(`${harness.emulator.baseURL("mistral")}/v1/batch/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_KEYS.mistral}`, "content-type": "application/json" },
        body: JSON.stringify({
          endpoint: "/v1/chat/completions",
          model: MODEL,
          requests: [{ custom_id: "o", body: other }],
        }),
      });
      expect(response.status).toBe(200);
    }
    harness.clock.advance(ENOUGH_TIME_MS);
    const before = harness.emulator.requestLog.length;
    expect(await client.monitorBatch("ms-shards")).toMatchObject({
      status: "completed",
      completedRequests: 5,
    });
    const calls = harness.emulator.requestLog.slice(before).map((entry) => `${entry.method} ${entry.path}`);
    expect(calls).toEqual(["GET /mistral/v1/batch/jobs", "GET /mistral/v1/batch/jobs"]);

    const results = await client.retrieveBatchResults("ms-shards");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requestsFor(5).map((request) => [request.id, "succeeded"]),
    );
  });

  it("puts requests of different models into different jobs, each naming its model", async () => {
    const client = harness.client();
    const requests = [
      ...requestsFor(2),
      ...requestsFor(2, "open-mistral-nemo").map((r) => ({ ...r, id: `n-${r.id}` })),
    ];
    await client.submitBatch({ requests, jobId: "ms-models", provider: "mistral" });
    expect([...mistral().batches.values()].map((batch) => batch.model).sort()).toEqual([
      MODEL,
      "open-mistral-nemo",
    ]);
  });

  it("a job creation whose answer is lost is found by its metadata, not created twice", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /^\/mistral\/v1\/batch\/jobs$/,
      action: { kind: "drop_response" },
    });
    const client = harness.client();
    const job = await client.submitBatch({ requests: requestsFor(3), jobId: "ms-lost", provider: "mistral" });
    expect(harness.emulator.batchCount("mistral")).toBe(1);
    expect(log(/^\/mistral\/v1\/batch\/jobs$/, "POST").map((entry) => entry.status)).toEqual([0]);
    expect(log(/^\/mistral\/v1\/batch\/jobs$/, "GET").map((entry) => entry.status)).toEqual([200]);
    expect(job.providerBatchIds).toEqual([...mistral().batches.keys()]);
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("ms-lost");
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
  });

  it("a download cut midway is read again, and a 503 on status is retried: no result lost or doubled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(30), jobId: "ms-faults", provider: "mistral" });
    harness.clock.advance(ENOUGH_TIME_MS);
    harness.emulator.faults.add({
      method: "GET",
      path: /^\/mistral\/v1\/batch\/jobs\/[0-9a-f-]+$/,
      action: { kind: "status", status: 503 },
      times: 2,
    });
    harness.emulator.faults.add({
      method: "GET",
      path: "/content",
      action: { kind: "cut", afterBytes: 2_500 },
    });
    expect((await client.monitorBatch("ms-faults")).status).toBe("completed");
    const results = await client.retrieveBatchResults("ms-faults");
    expect(results.map((result) => result.id)).toEqual(requestsFor(30).map((request) => request.id));
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
    expect(log(/^\/mistral\/v1\/batch\/jobs\/[0-9a-f-]+$/, "GET").map((entry) => entry.status)).toEqual([
      503, 503, 200,
    ]);
    expect(log(/\/content$/, "GET").map((entry) => entry.status)).toEqual([0, 200]);
  });

  it("a refused job creation is recorded with Mistral's reason and nothing is created", async () => {
    mistral().maxPendingRequests = 2;
    const client = harness.client();
    const attempt = client.submitBatch({
      requests: requestsFor(3),
      jobId: "ms-refused",
      provider: "mistral",
    });
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 400,
      message: expect.stringContaining("at most 2 pending requests"),
    });
    expect(harness.emulator.batchCount("mistral")).toBe(0);
    expect((await client.getJob("ms-refused"))?.shards[0]?.state).toBe("create_failed");
  });

  it("fails every request of a job Mistral refuses at validation, with its reason", async () => {
    harness.emulator.setFate("req-2", "invalid");
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(3), jobId: "ms-invalid", provider: "mistral" });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("ms-invalid")).toMatchObject({
      status: "failed",
      providerStatus: "FAILED",
    });
    const results = await client.retrieveBatchResults("ms-invalid");
    expect(results.map((result) => result.status)).toEqual(["failed", "failed", "failed"]);
    expect(results[0]?.error?.message).toMatch(/Line 2 of file .* was marked invalid/);
  });

  it("a wrong key is a 401 from Mistral, reported without the key", async () => {
    await harness.close();
    harness = await startHarness({ apiKeys: { mistral: "the-real-key" } });
    const client = harness.client();
    const attempt = client.submitBatch({ requests: requestsFor(1), jobId: "ms-401", provider: "mistral" });
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 401,
      message: expect.stringContaining("Unauthorized"),
    });
    await expect(attempt).rejects.not.toMatchObject({ message: expect.stringContaining(TEST_KEYS.mistral) });
    expect(harness.emulator.batchCount("mistral")).toBe(0);
  });

  it("reads the key and base URL from MISTRAL_API_KEY and MISTRAL_BASE_URL", async () => {
    const client = harness.client({
      providers: {},
      env: { MISTRAL_API_KEY: TEST_KEYS.mistral, MISTRAL_BASE_URL: harness.emulator.baseURL("mistral") },
    });
    await client.submitBatch({ requests: requestsFor(1), jobId: "ms-env", provider: "mistral" });
    expect(harness.emulator.batchCount("mistral")).toBe(1);
    expect(log(/^\/mistral\/v1\/files$/, "POST")).toHaveLength(1);
  });

  it("a missing key is a MissingApiKeyError naming MISTRAL_API_KEY, and nothing is sent", async () => {
    const client = harness.client({ providers: {}, env: {} });
    const attempt = client.submitBatch({ requests: requestsFor(2), jobId: "ms-nokey", provider: "mistral" });
    await expect(attempt).rejects.toBeInstanceOf(MissingApiKeyError);
    await expect(attempt).rejects.toMatchObject({
      envVar: "MISTRAL_API_KEY",
      message: expect.stringContaining("MISTRAL_API_KEY"),
    });
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("refuses an endpoint Relay does not run on Mistral, before sending anything", async () => {
    const client = harness.client();
    const attempt = client.submitBatch({
      requests: requestsFor(1),
      jobId: "ms-endpoint",
      provider: "mistral",
      endpoint: "/v1/embeddings",
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    expect(harness.emulator.requestLog).toEqual([]);
  });
});
