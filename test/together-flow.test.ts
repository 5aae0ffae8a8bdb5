import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingApiKeyError, ValidationError } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

const MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo";
const DAY_MS = 24 * 60 * 60_000;

function requestsFor(count: number): BatchRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `req-${index + 1}`,
    model: MODEL,
    systemPrompt: "You are a helpful assistant.",
    prompt: `Question number ${index + 1}: what is ${index} + ${index}?`,
  }));
}

describe("Relay with Together through the emulator", () => {
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

  it("submits, monitors through each status and retrieves results in request order", async () => {
    const client = harness.client();
    const requests = requestsFor(4);
    requests[1] = { ...requests[1], maxTokens: 300, providerArgs: { temperature: 0.2 } } as BatchRequest;
    const job = await client.submitBatch({
      requests,
      jobId: "tg-1",
      provider: "together",
      description: "first",
    });
    expect(job).toMatchObject({
      status: "pending",
      providerStatus: "VALIDATING",
      nRequests: 4,
      completedRequests: 0,
    });

    // The upload took the presigned route: 302, PUT of the bytes, then the file read back.
    expect(log(/^\/together\/v1\/files$/, "POST").map((entry) => entry.status)).toEqual([302]);
    expect(log(/^\/together\/upload\//, "PUT").map((entry) => entry.status)).toEqual([200]);
    expect(log(/\/files\/upload$/)).toEqual([]);

    // The lines Together received: {custom_id, body} with the system prompt first and max_tokens.
    const record = await client.getJob("tg-1");
    const inputFile = harness.emulator.providers.together.files.get(record?.shards[0]?.input_file_id ?? "");
    expect(inputFile.filename).toMatch(/^relay_tg-1_shard0_\w+\.jsonl$/);
    const lines = (inputFile.data?.toString("utf8") ?? "")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines[1]).toEqual({
      custom_id: "req-2",
      body: {
        model: MODEL,
        messages: [
          { role: "system", content: "You are a helpful assistant." },
          { role: "user", content: "Question number 2: what is 1 + 1?" },
        ],
        max_tokens: 300,
        temperature: 0.2,
      },
    });
    expect(lines[0].body).not.toHaveProperty("max_tokens");

    // Requests finish at 1000, 1500, 2000 and 2500 ms: at 1600 ms, two of four are done.
    harness.clock.advance(1_600);
    const running = await client.monitorBatch("tg-1");
    expect(running).toMatchObject({
      status: "in_progress",
      providerStatus: "IN_PROGRESS",
      completedRequests: 2,
      failedRequests: 0,
    });

    harness.clock.advance(ENOUGH_TIME_MS);
    const done = await client.monitorBatch("tg-1");
    expect(done).toMatchObject({
      status: "completed",
      providerStatus: "COMPLETED",
      completedRequests: 4,
      failedRequests: 0,
    });

    const results = await client.retrieveBatchResults("tg-1");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    for (const [index, result] of results.entries()) {
      expect(result.status).toBe("succeeded");
      expect(result.text).toContain(`Question number ${index + 1}`);
      expect(result.finishReason).toBe("stop");
      expect(result.usage?.inputTokens).toBeGreaterThan(0);
      expect(result.usage?.outputTokens).toBeGreaterThan(0);
      expect(result.raw).toMatchObject({ custom_id: result.id, response: { status_code: 200 } });
    }
    expect(await client.getResults("tg-1")).toEqual(results);
  });

  it("retrieves mixed fates: succeeded, failed, errored and expired, each in its place", async () => {
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-3", "error");
    harness.emulator.setFate("req-4", "expire");
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(5), jobId: "tg-mixed", provider: "together" });

    harness.clock.advance(ENOUGH_TIME_MS);
    const waiting = await client.monitorBatch("tg-mixed");
    // Four of five processed; which of them failed is only known once the batch has ended.
    expect(waiting).toMatchObject({ status: "in_progress", completedRequests: 4, failedRequests: 0 });

    harness.clock.advance(DAY_MS);
    const expired = await client.monitorBatch("tg-mixed");
    expect(expired).toMatchObject({
      status: "expired",
      providerStatus: "EXPIRED",
      completedRequests: 2,
      failedRequests: 3,
    });

    const results = await client.retrieveBatchResults("tg-mixed");
    expect(results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      ["req-1", "succeeded", undefined],
      ["req-2", "failed", "emulated_failure"],
      ["req-3", "failed", "server_error"],
      ["req-4", "expired", "batch_expired"],
      ["req-5", "succeeded", undefined],
    ]);
    expect(results[1]?.raw).toEqual({
      custom_id: "req-2",
      error: { message: expect.any(String), code: "emulated_failure" },
    });
    const after = await client.monitorBatch("tg-mixed");
    expect(after).toMatchObject({ completedRequests: 2, failedRequests: 3 });
  });

  it("cancels a batch midway: finished requests keep their results, the rest are cancelled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(4), jobId: "tg-cancel", provider: "together" });
    harness.clock.advance(1_600);
    expect(await client.cancelBatch("tg-cancel")).toBe(true);
    const job = await client.monitorBatch("tg-cancel");
    expect(job).toMatchObject({
      status: "cancelled",
      providerStatus: "CANCELLED",
      completedRequests: 2,
      failedRequests: 2,
    });
    expect(await client.cancelBatch("tg-cancel")).toBe(false);

    const results = await client.retrieveBatchResults("tg-cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
    expect(results[0]?.text).toContain("Question number 1");
  });

  it("a second process picks the job up with the right request counts", async () => {
    harness.emulator.setFate("req-3", "fail");
    await harness
      .client()
      .submitBatch({ requests: requestsFor(6), jobId: "tg-handover", provider: "together" });

    // A new client holds nothing in memory: the count must come from the workspace and the provider.
    const second = harness.client();
    harness.clock.advance(1_500);
    const running = await second.monitorBatch("tg-handover");
    expect(running).toMatchObject({
      status: "in_progress",
      nRequests: 6,
      completedRequests: 3,
      failedRequests: 0,
    });
    // Together reports progress only; the request count comes from the job record, so no file lookup is needed.
    const inputFileId = (await second.getJob("tg-handover"))?.shards[0]?.input_file_id;
    expect(log(new RegExp(`/v1/files/${inputFileId}$`), "GET").length).toBe(1);

    harness.clock.advance(ENOUGH_TIME_MS);
    const third = harness.client();
    const done = await third.monitorBatch("tg-handover");
    expect(done).toMatchObject({
      status: "completed",
      nRequests: 6,
      completedRequests: 5,
      failedRequests: 1,
    });
    const results = await third.retrieveBatchResults("tg-handover");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "failed",
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    expect(await third.getJob("tg-handover")).toMatchObject({
      n_requests: 6,
      completed_requests: 5,
      failed_requests: 1,
    });
  });

  it("fails the whole batch when Together refuses its input at validation", async () => {
    harness.emulator.setFate("req-2", "invalid");
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(3), jobId: "tg-invalid", provider: "together" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const job = await client.monitorBatch("tg-invalid");
    expect(job).toMatchObject({
      status: "failed",
      providerStatus: "FAILED",
      completedRequests: 0,
      failedRequests: 3,
    });
    const results = await client.retrieveBatchResults("tg-invalid");
    expect(results.map((result) => result.status)).toEqual(["failed", "failed", "failed"]);
    expect(results[0]?.error?.message).toMatch(/marked invalid/);
  });

  it("reads the key and base URL from TOGETHER_API_KEY and TOGETHER_BASE_URL", async () => {
    const client = harness.client({
      providers: {},
      env: { TOGETHER_API_KEY: TEST_KEYS.together, TOGETHER_BASE_URL: harness.emulator.baseURL("together") },
    });
    await client.submitBatch({ requests: requestsFor(1), jobId: "tg-env", provider: "together" });
    expect(harness.emulator.batchCount("together")).toBe(1);
  });

  it("a missing key is a MissingApiKeyError naming TOGETHER_API_KEY, and nothing is sent", async () => {
    const client = harness.client({ providers: {}, env: {} });
    const attempt = client.submitBatch({ requests: requestsFor(2), jobId: "tg-nokey", provider: "together" });
    await expect(attempt).rejects.toBeInstanceOf(MissingApiKeyError);
    await expect(attempt).rejects.toMatchObject({
      envVar: "TOGETHER_API_KEY",
      message: expect.stringContaining("TOGETHER_API_KEY"),
    });
    expect(harness.emulator.batchCount("together")).toBe(0);
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("refuses an endpoint Together batches do not take, before sending anything", async () => {
    const client = harness.client();
    const attempt = client.submitBatch({
      requests: requestsFor(1),
      jobId: "tg-endpoint",
      provider: "together",
      endpoint: "/v1/responses",
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    expect(harness.emulator.requestLog).toEqual([]);
  });
});

describe("Together under network faults", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const statuses = (pattern: RegExp, method: string) =>
    harness.emulator.requestLog
      .filter((entry) => entry.method === method && pattern.test(entry.path))
      .map((entry) => entry.status);

  async function finish(client: ReturnType<Harness["client"]>, jobId: string, count: number) {
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults(jobId);
    expect(results.map((result) => result.id)).toEqual(requestsFor(count).map((request) => request.id));
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
  }

  it("an upload whose connection drops is sent again", async () => {
    harness.emulator.faults.add({
      method: "PUT",
      path: "/together/upload/",
      action: { kind: "reset" },
      times: 1,
    });
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(3), jobId: "tg-reset", provider: "together" });
    expect(statuses(/^\/together\/upload\//, "PUT")).toEqual([0, 200]);
    await finish(client, "tg-reset", 3);
  });

  it("a failed request for the upload URL is retried", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /^\/together\/v1\/files$/,
      action: { kind: "status", status: 503, retryAfterSeconds: 0 },
      times: 2,
    });
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(2), jobId: "tg-503-upload", provider: "together" });
    expect(statuses(/^\/together\/v1\/files$/, "POST")).toEqual([503, 503, 302]);
    await finish(client, "tg-503-upload", 2);
  });

  it("falls back to the multipart upload when the presigned route is not offered", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /^\/together\/v1\/files$/,
      action: { kind: "status", status: 404 },
    });
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(3), jobId: "tg-multipart", provider: "together" });
    expect(statuses(/^\/together\/v1\/files\/upload$/, "POST")).toEqual([200]);
    expect(statuses(/^\/together\/upload\//, "PUT")).toEqual([]);
    await finish(client, "tg-multipart", 3);
  });

  it("a 503 on status is retried with backoff", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(2), jobId: "tg-503-status", provider: "together" });
    harness.clock.advance(ENOUGH_TIME_MS);
    harness.emulator.faults.add({
      method: "GET",
      path: /\/together\/v1\/batches\/[0-9a-f-]+$/,
      action: { kind: "status", status: 503 },
      times: 2,
    });
    const job = await client.monitorBatch("tg-503-status");
    expect(job.status).toBe("completed");
    expect(statuses(/\/together\/v1\/batches\/[0-9a-f-]+$/, "GET")).toEqual([503, 503, 200]);
  });

  it("a download cut midway is read again without duplicate or missing results", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(30), jobId: "tg-cut", provider: "together" });
    harness.emulator.faults.add({
      method: "GET",
      path: "/content",
      action: { kind: "cut", afterBytes: 2_500 },
      times: 1,
    });
    await finish(client, "tg-cut", 30);
    expect(statuses(/\/content$/, "GET")).toEqual([0, 200]);
  });

  it("a batch creation whose answer is lost is found by its input file, not created twice", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /^\/together\/v1\/batches$/,
      action: { kind: "drop_response" },
    });
    const client = harness.client();
    const job = await client.submitBatch({
      requests: requestsFor(3),
      jobId: "tg-lost",
      provider: "together",
    });
    expect(harness.emulator.batchCount("together")).toBe(1);
    // Sent once, then looked up in the list rather than sent again.
    expect(statuses(/^\/together\/v1\/batches$/, "POST")).toHaveLength(1);
    expect(statuses(/^\/together\/v1\/batches$/, "GET")).toEqual([200]);
    expect(job.providerBatchIds).toEqual([...harness.emulator.providers.together.batches.keys()]);
    await finish(client, "tg-lost", 3);
  });

  it("a refused batch creation is recorded and nothing is created", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /^\/together\/v1\/batches$/,
      action: { kind: "status", status: 400, body: { error: "input file is malformed" } },
    });
    const client = harness.client();
    const attempt = client.submitBatch({
      requests: requestsFor(2),
      jobId: "tg-refused",
      provider: "together",
    });
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 400,
      message: expect.stringContaining("input file is malformed"),
    });
    expect(harness.emulator.batchCount("together")).toBe(0);
    expect((await client.getJob("tg-refused"))?.shards[0]?.state).toBe("create_failed");
  });
});
