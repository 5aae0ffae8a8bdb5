import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingApiKeyError, ProviderError, ValidationError } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

const MODEL = "grok-4.3";
const DAY_MS = 24 * 60 * 60_000;
const requestsFor = (count: number) => exampleRequests(count, MODEL);

describe("Relay with xAI through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const xai = () => harness.emulator.providers.xai;
  const client = (options: { maxRequestsPerBatch?: number; maxBytesPerAddCall?: number } = {}) =>
    harness.client({
      providers: {
        xai: { apiKey: TEST_KEYS.xai, baseURL: harness.emulator.baseURL("xai"), maxRetries: 2, ...options },
      },
    });
  const statuses = (pattern: RegExp, method: string) =>
    harness.emulator.requestLog
      .filter((entry) => entry.method === method && pattern.test(entry.path))
      .map((entry) => entry.status);
  /** Every request ID the emulator accepted in an add call, in the order received. */
  const addedIds = () => xai().addCalls.flatMap((call) => call.ids);

  it("creates a tagged batch, adds the requests, monitors each state and returns results in request order", async () => {
    const relay = client();
    const requests: BatchRequest[] = requestsFor(4);
    requests[1] = { ...requests[1], maxTokens: 300, providerArgs: { temperature: 0.3 } } as BatchRequest;
    const job = await relay.submitBatch({ requests, jobId: "x-1", provider: "xai", description: "first" });
    expect(job).toMatchObject({ status: "in_progress", providerStatus: "processing", nRequests: 4 });

    const record = await relay.getJob("x-1");
    const batch = xai().batches.get(record?.shards[0]?.provider_batch_id ?? "");
    expect(batch?.name).toBe(`relay/x-1/shard-0/${record?.submission_id}/attempt-0`);
    expect(record?.shards[0]).toMatchObject({ state: "created", requests_added: 4 });
    expect(addedIds()).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    expect(batch?.request({ segment: 0, index: 1 })).toMatchObject({ kind: "responses", maxTokens: 300 });

    // Requests finish at 1000, 1500, 2000 and 2500 ms.
    harness.clock.advance(1_600);
    expect(await relay.monitorBatch("x-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "processing",
      completedRequests: 2,
      failedRequests: 0,
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await relay.monitorBatch("x-1")).toMatchObject({
      status: "completed",
      providerStatus: "done",
      completedRequests: 4,
    });
    const results = await relay.retrieveBatchResults("x-1");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    for (const [index, result] of results.entries()) {
      expect(result.status).toBe("succeeded");
      expect(result.text).toContain(`Question number ${index + 1}`);
      expect(result.finishReason).toBe("stop");
      // Reasoning tokens are xAI's apart from completion_tokens; Relay counts them as output.
      const usage = result.usage;
      expect(usage?.reasoningTokens).toBeGreaterThan(0);
      const raw = result.raw as {
        batch_result: { response: { chat_get_completion: { usage: Record<string, number> } } };
      };
      const native = raw.batch_result.response.chat_get_completion.usage;
      expect(usage?.outputTokens).toBe((native.completion_tokens ?? 0) + (usage?.reasoningTokens ?? 0));
      expect(usage?.totalTokens).toBe(native.total_tokens);
      expect(raw).toMatchObject({ batch_request_id: result.id });
    }
    expect(await relay.getResults("x-1")).toEqual(results);
  });

  it("sends chat completions when asked for that endpoint", async () => {
    await client().submitBatch({
      requests: requestsFor(2),
      jobId: "x-chat",
      provider: "xai",
      endpoint: "/v1/chat/completions",
    });
    const batch = [...xai().batches.values()][0];
    expect(batch?.request({ segment: 0, index: 0 }).kind).toBe("chat_get_completion");
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client().retrieveBatchResults("x-chat");
    expect(results.map((result) => result.status)).toEqual(["succeeded", "succeeded"]);
  });

  it("gives succeeded, failed, errored and expired requests each their result, in request order", async () => {
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-3", "error");
    harness.emulator.setFate("req-4", "expire");
    const relay = client();
    await relay.submitBatch({ requests: requestsFor(5), jobId: "x-mixed", provider: "xai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await relay.monitorBatch("x-mixed")).toMatchObject({
      status: "in_progress",
      completedRequests: 2,
      failedRequests: 2,
    });
    // Past expire_time (by the provider's clock, from its date header) with one request still pending.
    harness.clock.advance(DAY_MS);
    expect(await relay.monitorBatch("x-mixed")).toMatchObject({
      status: "expired",
      providerStatus: "expired",
    });
    const results = await relay.retrieveBatchResults("x-mixed");
    expect(results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      ["req-1", "succeeded", undefined],
      ["req-2", "failed", undefined],
      ["req-3", "failed", "internal"],
      ["req-4", "expired", "batch_expired"],
      ["req-5", "succeeded", undefined],
    ]);
    expect(results[1]?.error?.message).toContain("[emulator:fail]");
    expect(results[3]?.raw).toBeNull();
  });

  it("cancels midway: cancelling, then cancelled, keeping what finished before", async () => {
    const relay = client();
    await relay.submitBatch({ requests: requestsFor(4), jobId: "x-cancel", provider: "xai" });
    harness.clock.advance(1_600);
    expect(await relay.cancelBatch("x-cancel")).toBe(true);
    expect((await relay.getJob("x-cancel"))?.status).toBe("cancelling");
    expect(statuses(/\/xai\/v1\/batches\/batch_[^/]+:cancel$/, "POST")).toEqual([200]);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await relay.monitorBatch("x-cancel")).toMatchObject({
      status: "cancelled",
      providerStatus: "cancelled",
    });
    const results = await relay.retrieveBatchResults("x-cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
  });

  it("splits a job into batches by the request limit, and a batch into add calls by the size limit", async () => {
    const relay = client({ maxRequestsPerBatch: 40, maxBytesPerAddCall: 3_000 });
    const job = await relay.submitBatch({ requests: requestsFor(100), jobId: "x-split", provider: "xai" });
    expect(harness.emulator.batchCount("xai")).toBe(3);
    expect(new Set(job.providerBatchIds).size).toBe(3);
    const calls = xai().addCalls;
    expect(calls.length).toBeGreaterThan(6);
    expect(Math.max(...calls.map((call) => call.bytes))).toBeLessThanOrEqual(3_000);
    expect([...addedIds()].sort()).toEqual(
      requestsFor(100)
        .map((request) => request.id)
        .sort(),
    );
    const record = await relay.getJob("x-split");
    expect(record?.shards.map((shard) => [shard.n_requests, shard.requests_added])).toEqual([
      [40, 40],
      [40, 40],
      [20, 20],
    ]);
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await relay.retrieveBatchResults("x-split");
    expect(results.map((result) => result.id)).toEqual(requestsFor(100).map((request) => request.id));
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
  });

  it("reads results over several pages", async () => {
    const relay = client({ maxBytesPerAddCall: 200_000 });
    await relay.submitBatch({ requests: requestsFor(1_250), jobId: "x-pages", provider: "xai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await relay.retrieveBatchResults("x-pages");
    expect(results).toHaveLength(1_250);
    expect(
      results.every((result, index) => result.id === `req-${index + 1}` && result.status === "succeeded"),
    ).toBe(true);
    expect(statuses(/\/results$/, "GET")).toEqual(Array(13).fill(200));
  });

  it("reads on through result pages that come back empty", async () => {
    const relay = client();
    await relay.submitBatch({ requests: requestsFor(250), jobId: "x-sparse", provider: "xai" });
    // Requests finish one by one over 2 s after 0.5 s: 20 have when the batch is cancelled.
    harness.clock.advance(500 + 2_000 * (20 / 250) + 1);
    await relay.cancelBatch("x-sparse");
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await relay.retrieveBatchResults("x-sparse");
    expect(results.filter((result) => result.status === "succeeded")).toHaveLength(20);
    expect(results.filter((result) => result.status === "cancelled")).toHaveLength(230);
    expect(statuses(/\/results$/, "GET")).toEqual([200, 200, 200]);
  });

  it("reads the key and base URL from XAI_API_KEY and XAI_BASE_URL", async () => {
    const relay = harness.client({
      providers: {},
      env: { XAI_API_KEY: TEST_KEYS.xai, XAI_BASE_URL: harness.emulator.baseURL("xai") },
    });
    await relay.submitBatch({ requests: requestsFor(1), jobId: "x-env", provider: "xai" });
    expect(harness.emulator.batchCount("xai")).toBe(1);
  });

  it("names XAI_API_KEY when no key is configured, and sends nothing", async () => {
    const relay = harness.client({ providers: {}, env: {} });
    const attempt = relay.submitBatch({ requests: requestsFor(2), jobId: "x-nokey", provider: "xai" });
    await expect(attempt).rejects.toBeInstanceOf(MissingApiKeyError);
    await expect(attempt).rejects.toMatchObject({
      envVar: "XAI_API_KEY",
      message: expect.stringContaining("XAI_API_KEY"),
    });
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("refuses an endpoint xAI batches do not take, before sending anything", async () => {
    const attempt = client().submitBatch({
      requests: requestsFor(1),
      jobId: "x-endpoint",
      provider: "xai",
      endpoint: "/v1/embeddings",
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    expect(harness.emulator.requestLog).toEqual([]);
  });
});

describe("xAI with a wrong key", () => {
  it("reports the provider's refusal, creates nothing and leaves the key out of the record", async () => {
    const harness = await startHarness({ apiKeys: { xai: "the-right-key-0000" } });
    try {
      const relay = harness.client();
      const attempt = relay.submitBatch({ requests: requestsFor(1), jobId: "x-wrong", provider: "xai" });
      await expect(attempt).rejects.toBeInstanceOf(ProviderError);
      await expect(attempt).rejects.toMatchObject({
        httpStatus: 400,
        message: expect.stringContaining("Incorrect API key provided"),
      });
      expect(harness.emulator.batchCount("xai")).toBe(0);
      const record = await relay.getJob("x-wrong");
      expect(record?.shards[0]?.state).toBe("create_failed");
      expect(JSON.stringify(record)).not.toContain(TEST_KEYS.xai);
    } finally {
      await harness.close();
    }
  });
});

describe("xAI under faults: a batch is never created twice, and no request is added twice or lost", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const ADDS = /^\/xai\/v1\/batches\/[^/]+\/requests$/;
  const xai = () => harness.emulator.providers.xai;
  const addedIds = () => xai().addCalls.flatMap((call) => call.ids);
  const client = (maxRetries = 2) =>
    harness.client({
      providers: {
        xai: {
          apiKey: TEST_KEYS.xai,
          baseURL: harness.emulator.baseURL("xai"),
          maxRetries,
          // About three requests a call, so that a shard takes several add calls.
          maxBytesPerAddCall: 900,
        },
      },
    });
  const statuses = (pattern: RegExp, method: string) =>
    harness.emulator.requestLog
      .filter((entry) => entry.method === method && pattern.test(entry.path))
      .map((entry) => entry.status);
  /** Lets the first `passing` matching calls through, then applies `action` to the next `times`. */
  function faultAfter(
    passing: number,
    method: string,
    path: RegExp,
    action: Parameters<typeof harness.emulator.faults.add>[0]["action"],
    times = 1,
  ) {
    for (let index = 0; index < passing; index += 1) {
      harness.emulator.faults.add({ method, path, action: { kind: "delay", ms: 0 } });
    }
    harness.emulator.faults.add({ method, path, action, times });
  }

  async function finishes(jobId: string, count: number) {
    expect([...addedIds()].sort()).toEqual(
      requestsFor(count)
        .map((request) => request.id)
        .sort(),
    );
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client().retrieveBatchResults(jobId);
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requestsFor(count).map((request) => [request.id, "succeeded"]),
    );
  }

  it("a create whose answer is lost is found by its name and filled, not created twice", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /^\/xai\/v1\/batches$/,
      action: { kind: "drop_response" },
    });
    const job = await client().submitBatch({
      requests: requestsFor(7),
      jobId: "f-lost-create",
      provider: "xai",
    });
    expect(harness.emulator.batchCount("xai")).toBe(1);
    expect(statuses(/^\/xai\/v1\/batches$/, "POST")).toEqual([0]);
    expect(job.providerBatchIds).toEqual([...xai().batches.keys()]);
    await finishes("f-lost-create", 7);
  });

  it("an add whose answer is lost is checked against the batch's request list before anything more is sent", async () => {
    faultAfter(1, "POST", ADDS, { kind: "drop_response" });
    await client().submitBatch({ requests: requestsFor(8), jobId: "f-lost-add", provider: "xai" });
    // The lost call did land: the list shows it, so its requests are not sent again.
    expect(new Set(addedIds()).size).toBe(addedIds().length);
    expect(statuses(/\/requests$/, "GET")).toEqual([200]);
    expect((await client().getJob("f-lost-add"))?.shards[0]).toMatchObject({
      state: "created",
      requests_added: 8,
    });
    await finishes("f-lost-add", 8);
  });

  it("an add that never got through is sent again once the list shows it missing", async () => {
    faultAfter(1, "POST", ADDS, { kind: "reset" });
    await client().submitBatch({ requests: requestsFor(8), jobId: "f-reset-add", provider: "xai" });
    expect(statuses(ADDS, "POST").filter((status) => status === 0)).toHaveLength(1);
    await finishes("f-reset-add", 8);
  });

  it("a 429 on an add is waited out and sent again", async () => {
    faultAfter(1, "POST", ADDS, { kind: "status", status: 429, retryAfterSeconds: 0 });
    await client().submitBatch({ requests: requestsFor(6), jobId: "f-429", provider: "xai" });
    expect(statuses(ADDS, "POST")).toContain(429);
    expect(statuses(/\/requests$/, "GET")).toEqual([]);
    await finishes("f-429", 6);
  });

  it("a network that fails midway through the adds keeps the job; a later call resumes from the recorded count", async () => {
    faultAfter(2, "POST", ADDS, { kind: "status", status: 503 }, 100);
    const first = client();
    const attempt = first.submitBatch({ requests: requestsFor(10), jobId: "f-down", provider: "xai" });
    await expect(attempt).rejects.toMatchObject({ code: "create_incomplete" });
    const stored = await first.getJob("f-down");
    expect(stored?.shards[0]?.state).toBe("adding");
    const held = stored?.shards[0]?.requests_added ?? 0;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(10);
    expect(addedIds()).toHaveLength(held);
    harness.emulator.faults.clear();
    // Another process picks the job up: monitoring finishes the filling first.
    const job = await client().monitorBatch("f-down");
    expect(job.status).toBe("in_progress");
    expect((await client().getJob("f-down"))?.shards[0]).toMatchObject({
      state: "created",
      requests_added: 10,
    });
    expect(harness.emulator.batchCount("xai")).toBe(1);
    await finishes("f-down", 10);
  });

  it("an add that landed but whose answer was lost, followed by a stop, is not sent again on recovery", async () => {
    // The second add lands and its answer is lost; the request list cannot be read, so this process gives up.
    faultAfter(1, "POST", ADDS, { kind: "drop_response" });
    harness.emulator.faults.add({
      method: "GET",
      path: /\/requests$/,
      action: { kind: "status", status: 503 },
      times: 100,
    });
    const first = client(0);
    await expect(
      first.submitBatch({ requests: requestsFor(9), jobId: "f-lost-stop", provider: "xai" }),
    ).rejects.toMatchObject({ code: "create_incomplete" });
    const stored = await first.getJob("f-lost-stop");
    const recorded = stored?.shards[0]?.requests_added ?? 0;
    expect(stored?.shards[0]?.state).toBe("adding");
    expect(addedIds().length).toBeGreaterThan(recorded);
    harness.emulator.faults.clear();
    await client().recover("f-lost-stop");
    expect(new Set(addedIds()).size).toBe(addedIds().length);
    await finishes("f-lost-stop", 9);
  });

  it("an add the provider refuses ends the filling: the batch runs with what it holds, the rest fail with the reason", async () => {
    harness.emulator.setFate("req-6", "invalid");
    const relay = client();
    const attempt = relay.submitBatch({ requests: requestsFor(10), jobId: "f-refused", provider: "xai" });
    await expect(attempt).rejects.toMatchObject({ httpStatus: 400 });
    const shard = (await relay.getJob("f-refused"))?.shards[0];
    expect(shard).toMatchObject({
      state: "created",
      add_error: { message: expect.stringContaining("invalid") },
    });
    const held = shard?.requests_added ?? 0;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(6);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await relay.monitorBatch("f-refused")).status).toBe("completed");
    const results = await relay.retrieveBatchResults("f-refused");
    expect(results.slice(0, held).every((result) => result.status === "succeeded")).toBe(true);
    for (const result of results.slice(held)) {
      expect(result).toMatchObject({ status: "failed", error: { code: "not_added" } });
      expect(result.error?.message).toContain("refused to add");
    }
    expect(results).toHaveLength(10);
  });

  it("a batch that could take none of its requests fails them all with the provider's reason", async () => {
    harness.emulator.setFate("req-1", "invalid");
    const relay = client();
    await expect(
      relay.submitBatch({ requests: requestsFor(2), jobId: "f-none", provider: "xai" }),
    ).rejects.toMatchObject({ httpStatus: 400 });
    expect((await relay.getJob("f-none"))?.status).toBe("failed");
    const results = await relay.retrieveBatchResults("f-none");
    expect(results.map((result) => result.status)).toEqual(["failed", "failed"]);
    expect(results[0]?.error?.message).toContain("[emulator:invalid]");
  });

  it("cancelling a job whose batch is being filled cancels the batch with what it holds", async () => {
    faultAfter(1, "POST", ADDS, { kind: "status", status: 503 }, 100);
    const relay = client();
    await expect(
      relay.submitBatch({ requests: requestsFor(8), jobId: "f-cancel-adding", provider: "xai" }),
    ).rejects.toMatchObject({ code: "create_incomplete" });
    harness.emulator.faults.clear();
    expect(await relay.cancelBatch("f-cancel-adding")).toBe(true);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await relay.monitorBatch("f-cancel-adding")).status).toBe("cancelled");
    const held = (await relay.getJob("f-cancel-adding"))?.shards[0]?.requests_added ?? 0;
    expect(addedIds()).toHaveLength(held);
    const results = await relay.retrieveBatchResults("f-cancel-adding");
    expect(results.slice(held).every((result) => result.status === "cancelled")).toBe(true);
    expect(results).toHaveLength(8);
  });
});
