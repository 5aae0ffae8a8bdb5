import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingApiKeyError, ProviderError } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

const MODEL = "gemini-2.5-flash";
const HOUR_MS = 60 * 60_000;

function requestsFor(
  count: number,
  prompt = (index: number) => `Question number ${index + 1}: what is ${index} + ${index}?`,
) {
  return Array.from(
    { length: count },
    (_, index): BatchRequest => ({
      id: `req-${index + 1}`,
      model: MODEL,
      systemPrompt: "You are a helpful assistant.",
      prompt: prompt(index),
    }),
  );
}

type Json = Record<string, unknown>;

describe("Relay with Gemini through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const gemini = () => harness.emulator.providers.gemini;
  const log = (pattern: RegExp, method?: string) =>
    harness.emulator.requestLog.filter(
      (entry) => pattern.test(entry.path) && (!method || entry.method === method),
    );

  it("sends a small job inline, monitors it through each state and returns results in request order", async () => {
    const client = harness.client();
    const requests = requestsFor(4);
    requests[1] = {
      ...requests[1],
      maxTokens: 300,
      providerArgs: { generationConfig: { temperature: 0.2 } },
    } as BatchRequest;
    const job = await client.submitBatch({
      requests,
      jobId: "gm-1",
      provider: "gemini",
      description: "first",
    });
    expect(job).toMatchObject({ status: "pending", providerStatus: "BATCH_STATE_PENDING", nRequests: 4 });
    expect(job.providerBatchIds[0]).toMatch(/^batches\/[a-z0-9]{36}$/);

    // Inline: no upload; one create call whose requests carry their key in metadata.
    expect(log(/\/upload\//)).toEqual([]);
    expect(
      log(/\/v1beta\/models\/gemini-2\.5-flash:batchGenerateContent$/, "POST").map((entry) => entry.status),
    ).toEqual([200]);
    const body = gemini().lastCreateBody as {
      batch: { displayName: string; inputConfig: { requests: { requests: Json[] } } };
    };
    const record = await client.getJob("gm-1");
    expect(body.batch.displayName).toBe(`relay/${record?.submission_id}/0/0/gm-1`);
    expect(body.batch.inputConfig.requests.requests[1]).toEqual({
      request: {
        model: `models/${MODEL}`,
        contents: [{ role: "user", parts: [{ text: "Question number 2: what is 1 + 1?" }] }],
        systemInstruction: { parts: [{ text: "You are a helpful assistant." }] },
        generationConfig: { maxOutputTokens: 300, temperature: 0.2 },
      },
      metadata: { key: "req-2" },
    });

    // Requests finish at 1000, 1500, 2000 and 2500 ms.
    harness.clock.advance(1_600);
    expect(await client.monitorBatch("gm-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "BATCH_STATE_RUNNING",
      completedRequests: 2,
      failedRequests: 0,
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("gm-1")).toMatchObject({
      status: "completed",
      providerStatus: "BATCH_STATE_SUCCEEDED",
      completedRequests: 4,
    });

    const results = await client.retrieveBatchResults("gm-1");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    for (const [index, result] of results.entries()) {
      expect(result).toMatchObject({ status: "succeeded", finishReason: "stop" });
      expect(result.text).toContain(`Question number ${index + 1}`);
      expect(result.usage?.inputTokens).toBeGreaterThan(0);
      expect(result.raw).toMatchObject({
        metadata: { key: result.id },
        response: { candidates: expect.any(Array) },
      });
    }
    expect(await client.getResults("gm-1")).toEqual(results);
  });

  it("uploads a job over 20 MB as a JSONL file in 8 MiB chunks, and reads the responses file", async () => {
    const client = harness.client();
    const requests = requestsFor(21, (index) => `Long question ${index + 1}: ${"x".repeat(1_000_000)}`);
    await client.submitBatch({ requests, jobId: "gm-file", provider: "gemini" });
    const record = await client.getJob("gm-file");
    const fileName = record?.shards[0]?.input_file_id ?? "";
    expect(fileName).toMatch(/^files\/[a-z0-9]{12}$/);
    // Start, then three chunks (8 MiB, 8 MiB, the rest with finalize).
    expect(log(/\/gemini\/upload\/v1beta\/files$/, "POST").map((entry) => entry.status)).toEqual([
      200, 200, 200, 200,
    ]);
    const body = gemini().lastCreateBody as { batch: { inputConfig: Json } };
    expect(body.batch.inputConfig).toEqual({ fileName });
    const uploaded = gemini().files.find(fileName);
    const lines = gemini()
      .files.contentOf(uploaded as NonNullable<typeof uploaded>)
      .trim()
      .split("\n");
    expect(lines).toHaveLength(21);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      key: "req-1",
      request: { model: `models/${MODEL}` },
    });

    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("gm-file")).toMatchObject({
      status: "completed",
      completedRequests: 21,
    });
    const results = await client.retrieveBatchResults("gm-file");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requests.map((request) => [request.id, "succeeded"]),
    );
    expect(results[4]?.text).toContain("Long question 5");
    expect(results[4]?.raw).toMatchObject({ key: "req-5", response: { candidates: expect.any(Array) } });
    expect(log(/\/download\/v1beta\/files\/batch-[a-z0-9]+:download$/, "GET").length).toBe(1);
  });

  it("resumes an upload whose chunk answer was lost from what the session received, sending no byte twice", async () => {
    let uploads = 0;
    harness.emulator.events.on("request", ({ path }: { path: string }) => {
      // The second call is the first chunk: it is stored, but its answer never arrives.
      if (path.endsWith("/upload/v1beta/files") && ++uploads === 2) {
        harness.emulator.faults.add({ path: "/upload/v1beta/files", action: { kind: "drop_response" } });
      }
    });
    const client = harness.client();
    const requests = requestsFor(21, (index) => `Long question ${index + 1}: ${"z".repeat(1_000_000)}`);
    await client.submitBatch({ requests, jobId: "gm-resume", provider: "gemini" });
    // start, chunk 1 (answer lost), query, chunk 2, chunk 3 with finalize.
    expect(log(/\/upload\/v1beta\/files$/, "POST").map((entry) => entry.status)).toEqual([
      200, 0, 200, 200, 200,
    ]);
    const fileName = (await client.getJob("gm-resume"))?.shards[0]?.input_file_id ?? "";
    const uploaded = gemini().files.find(fileName);
    const lines = gemini()
      .files.contentOf(uploaded as NonNullable<typeof uploaded>)
      .trim()
      .split("\n");
    expect(lines.map((text) => JSON.parse(text).key)).toEqual(requests.map((request) => request.id));
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(
      (await client.retrieveBatchResults("gm-resume")).every((result) => result.status === "succeeded"),
    ).toBe(true);
  });

  it("retrieves failed and errored requests with their status; a batch with a stuck request expires after 48 h with nothing", async () => {
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-3", "error");
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(4), jobId: "gm-mixed", provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("gm-mixed")).toMatchObject({
      status: "completed",
      completedRequests: 2,
      failedRequests: 2,
    });
    const results = await client.retrieveBatchResults("gm-mixed");
    expect(results.map((result) => [result.id, result.status, result.error?.code])).toEqual([
      ["req-1", "succeeded", undefined],
      ["req-2", "failed", "INVALID_ARGUMENT"],
      ["req-3", "failed", "INTERNAL"],
      ["req-4", "succeeded", undefined],
    ]);
    expect(results[1]?.raw).toEqual({
      metadata: { key: "req-2" },
      error: { code: 3, message: expect.any(String) },
    });

    harness.emulator.setFate("req-2", "expire");
    await client.submitBatch({ requests: requestsFor(3), jobId: "gm-expire", provider: "gemini" });
    // Past OpenAI's 24 h, Gemini still runs the batch.
    harness.clock.advance(25 * HOUR_MS);
    expect(await client.monitorBatch("gm-expire")).toMatchObject({
      status: "in_progress",
      providerStatus: "BATCH_STATE_RUNNING",
    });
    harness.clock.advance(24 * HOUR_MS);
    expect(await client.monitorBatch("gm-expire")).toMatchObject({
      status: "expired",
      providerStatus: "BATCH_STATE_EXPIRED",
    });
    const expired = await client.retrieveBatchResults("gm-expire");
    expect(expired.map((result) => [result.status, result.error?.code])).toEqual(
      Array(3).fill(["expired", "batch_expired"]),
    );
  });

  it("fails every request of a batch that fails validation, with Gemini's reason", async () => {
    harness.emulator.setFate("req-2", "invalid");
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(3), jobId: "gm-invalid", provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("gm-invalid")).toMatchObject({
      status: "failed",
      providerStatus: "BATCH_STATE_FAILED",
    });
    const results = await client.retrieveBatchResults("gm-invalid");
    expect(results.map((result) => result.status)).toEqual(["failed", "failed", "failed"]);
    expect(results[0]?.error).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/marked invalid/),
    });
  });

  it("cancels midway: cancelling while Gemini still runs it, then cancelled, finished requests kept", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(4), jobId: "gm-cancel", provider: "gemini" });
    harness.clock.advance(1_600);
    expect(await client.cancelBatch("gm-cancel")).toBe(true);
    expect(await client.getJob("gm-cancel")).toMatchObject({
      status: "cancelling",
      provider_status: "BATCH_STATE_RUNNING",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("gm-cancel")).toMatchObject({
      status: "cancelled",
      providerStatus: "BATCH_STATE_CANCELLED",
    });
    expect(await client.cancelBatch("gm-cancel")).toBe(false);
    const results = await client.retrieveBatchResults("gm-cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
  });

  it("records when the results expire (6 weeks), and cleanup deletes the input file, the responses file and the batch", async () => {
    const client = harness.client();
    const requests = requestsFor(21, (index) => `Long question ${index + 1}: ${"c".repeat(1_000_000)}`);
    await client.submitBatch({ requests, jobId: "gm-clean", provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.retrieveBatchResults("gm-clean");
    const shard = (await client.getJob("gm-clean"))?.shards[0];
    // The emulated batch ended when it entered its last phase.
    const ended = gemini()
      .batches.get(shard?.provider_batch_id ?? "")
      ?.sim.phaseWithTime(harness.clock.now()).since;
    expect(Date.parse(shard?.results_expire_at ?? "") - (ended ?? 0)).toBe(42 * 24 * HOUR_MS);

    const report = await client.cleanup("gm-clean");
    expect(report.deleted).toEqual([shard?.input_file_id, shard?.output_file_id, shard?.provider_batch_id]);
    expect(gemini().files.find(shard?.input_file_id ?? "")).toBeUndefined();
    expect(gemini().files.find(shard?.output_file_id ?? "")).toBeUndefined();
    expect(harness.emulator.batchCount("gemini")).toBe(0);
    // The stored results stay; a second cleanup has nothing left to do.
    expect(await client.getResults("gm-clean")).toHaveLength(21);
    expect((await client.cleanup("gm-clean")).deleted).toEqual([]);
  });

  it("splits a job by maxRequestsPerBatch and watches its batches with one list call", async () => {
    const client = harness.client({
      providers: {
        gemini: {
          apiKey: TEST_KEYS.gemini,
          baseURL: harness.emulator.baseURL("gemini"),
          maxRequestsPerBatch: 2,
        },
      },
    });
    const job = await client.submitBatch({
      requests: requestsFor(5),
      jobId: "gm-shards",
      provider: "gemini",
    });
    expect(job.providerBatchIds).toHaveLength(3);
    expect(harness.emulator.batchCount("gemini")).toBe(3);
    const displayNames = [...gemini().batches.values()].map((batch) => batch.displayName).sort();
    expect(displayNames.map((name) => name.split("/")[2])).toEqual(["0", "1", "2"]);

    harness.clock.advance(ENOUGH_TIME_MS);
    const before = harness.emulator.requestLog.length;
    expect(await client.monitorBatch("gm-shards")).toMatchObject({
      status: "completed",
      completedRequests: 5,
    });
    const calls = harness.emulator.requestLog.slice(before);
    expect(calls.map((entry) => `${entry.method} ${entry.path}`)).toEqual(["GET /gemini/v1beta/batches"]);
    const results = await client.retrieveBatchResults("gm-shards");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4", "req-5"]);
  });

  it.each([
    ["inline", 3, ""],
    ["file", 21, "y".repeat(1_000_000)],
  ])(
    "finds the batch of a lost create answer (%s) by its display name: no duplicate",
    async (_kind, count, padding) => {
      harness.emulator.faults.add({
        method: "POST",
        path: /:batchGenerateContent$/,
        action: { kind: "drop_response" },
      });
      const client = harness.client();
      const job = await client.submitBatch({
        requests: requestsFor(count, (index) => `Question ${index} ${padding}`),
        jobId: "gm-lost",
        provider: "gemini",
      });
      expect(harness.emulator.batchCount("gemini")).toBe(1);
      expect(job.providerBatchIds[0]).toBe([...gemini().batches.keys()][0]);
      expect(log(/:batchGenerateContent$/, "POST").map((entry) => entry.status)).toEqual([0]);
      harness.clock.advance(ENOUGH_TIME_MS);
      expect(
        (await client.retrieveBatchResults("gm-lost")).every((result) => result.status === "succeeded"),
      ).toBe(true);
    },
  );

  it("creates once after a 503 that created nothing", async () => {
    harness.emulator.faults.add({
      method: "POST",
      path: /:batchGenerateContent$/,
      action: { kind: "status", status: 503 },
    });
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(2), jobId: "gm-503", provider: "gemini" });
    expect(harness.emulator.batchCount("gemini")).toBe(1);
    expect(log(/:batchGenerateContent$/, "POST").map((entry) => entry.status)).toEqual([503, 200]);
  });

  it("reads inlined responses again after a cut answer, without duplicates or gaps", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requestsFor(30), jobId: "gm-cut", provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.monitorBatch("gm-cut");
    harness.emulator.faults.add({
      method: "GET",
      path: /\/v1beta\/batches\/[a-z0-9]+$/,
      action: { kind: "cut", afterBytes: 6_000 },
    });
    const results = await client.retrieveBatchResults("gm-cut");
    expect(results.map((result) => result.id)).toEqual(requestsFor(30).map((request) => request.id));
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
    expect(log(/\/v1beta\/batches\/[a-z0-9]+$/, "GET").map((entry) => entry.status)).toEqual([200, 0, 200]);
  });

  it("a wrong key is refused (400 API_KEY_INVALID) and creates nothing, and the job carries on once the key is fixed; a missing one names GEMINI_API_KEY", async () => {
    await harness.close();
    harness = await startHarness({ apiKeys: { gemini: "the-right-key" } });
    const attempt = harness
      .client()
      .submitBatch({ requests: requestsFor(2), jobId: "gm-401", provider: "gemini" });
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 400,
      code: "key_refused",
      message: expect.stringContaining("API key not valid"),
    });
    expect(harness.emulator.batchCount("gemini")).toBe(0);
    // A refused key is put right by the user: the job waits to be created instead of failing.
    const waiting = await harness.client().getJob("gm-401");
    expect(waiting?.shards.map((shard) => [shard.state, shard.status])).toEqual([["planned", "pending"]]);
    const fixed = harness.client({
      providers: { gemini: { apiKey: "the-right-key", baseURL: harness.emulator.baseURL("gemini") } },
    });
    expect((await fixed.recover("gm-401")).providerBatchIds[0]).toBeTruthy();
    expect(harness.emulator.batchCount("gemini")).toBe(1);

    const nokey = harness.client({ providers: {}, env: {} });
    const missing = nokey.submitBatch({ requests: requestsFor(1), jobId: "gm-nokey", provider: "gemini" });
    await expect(missing).rejects.toBeInstanceOf(MissingApiKeyError);
    await expect(missing).rejects.toMatchObject({
      envVar: "GEMINI_API_KEY",
      message: expect.stringContaining("GEMINI_API_KEY"),
    });
  });

  it("reads its configuration as @google/genai does: GOOGLE_API_KEY before GEMINI_API_KEY, either base URL variable", async () => {
    await harness.close();
    harness = await startHarness({ apiKeys: { gemini: TEST_KEYS.gemini } });
    const url = harness.emulator.baseURL("gemini");
    const env = async (jobId: string, variables: Record<string, string>) =>
      harness
        .client({ providers: {}, env: variables })
        .submitBatch({ requests: requestsFor(1), jobId, provider: "gemini" });
    await env("gm-env-1", { GEMINI_API_KEY: TEST_KEYS.gemini, GEMINI_BASE_URL: url });
    await env("gm-env-2", {
      GOOGLE_API_KEY: TEST_KEYS.gemini,
      GEMINI_API_KEY: "stale-key",
      GOOGLE_GEMINI_BASE_URL: url,
    });
    expect(harness.emulator.batchCount("gemini")).toBe(2);
    await expect(
      env("gm-env-3", {
        GOOGLE_API_KEY: "stale-key",
        GEMINI_API_KEY: TEST_KEYS.gemini,
        GEMINI_BASE_URL: url,
      }),
    ).rejects.toMatchObject({
      httpStatus: 400,
    });
  });
});
