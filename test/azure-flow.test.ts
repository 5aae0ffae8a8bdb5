import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eachRequest } from "../src/emulator/engine.js";
import { MissingApiKeyError, ProviderError, ValidationError } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { batchAt, fileRecords } from "./support/openai-compatible.js";

const DEPLOYMENT = "gpt-4o-mini";
const HOUR_MS = 60 * 60_000;
const THIRTY_DAYS_S = 30 * 24 * 3600;
const requests = (count: number, model = DEPLOYMENT): BatchRequest[] => exampleRequests(count, model);

describe("Relay with Azure OpenAI through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ apiKeys: { azure: TEST_KEYS.azure } });
  });
  afterEach(async () => {
    await harness.close();
  });
  const azure = () => harness.emulator.providers.azure;
  const clientWith = (config: Record<string, unknown>) =>
    harness.client({
      providers: {
        azure: { apiKey: TEST_KEYS.azure, baseURL: harness.emulator.baseURL("azure"), ...config },
      },
    });
  const paths = () => harness.emulator.requestLog.map((entry) => `${entry.method} ${entry.path}`);

  it("v1 API by default: no api-version, capitalised statuses and ISO times read, results in request order", async () => {
    const client = harness.client();
    const job = await client.submitBatch({ requests: requests(4), jobId: "az-1", provider: "azure" });
    expect(job).toMatchObject({ status: "pending", providerStatus: "Validating", completedRequests: 0 });
    expect(paths()).toEqual(["POST /azure/openai/v1/files", "POST /azure/openai/v1/batches"]);

    // The deployment name is the model of every line; files and outputs expire after 30 days.
    const batch = batchAt(azure());
    const lines = fileRecords(azure(), batch.inputFileId);
    expect(lines.map((line) => (line.body as { model: string }).model)).toEqual(Array(4).fill(DEPLOYMENT));
    expect(lines[0]).toMatchObject({ method: "POST", url: "/v1/chat/completions" });
    const input = azure().files.get(batch.inputFileId);
    expect(((input?.expiresAt ?? 0) - (input?.createdAt ?? 0)) / 1000).toBe(THIRTY_DAYS_S);
    expect(batch.outputExpiresAfterSeconds).toBe(THIRTY_DAYS_S);
    expect(batch.metadata).toMatchObject({ relay_job_id: "az-1", relay_shard: "0" });

    harness.clock.advance(600);
    expect(await client.monitorBatch("az-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "InProgress",
    });
    harness.clock.advance(2_000);
    expect(await client.monitorBatch("az-1")).toMatchObject({
      status: "in_progress",
      providerStatus: "Finalizing",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("az-1")).toMatchObject({
      status: "completed",
      providerStatus: "Completed",
      completedRequests: 4,
    });
    const record = await client.getJob("az-1");
    expect(Date.parse(record?.created_at ?? "")).not.toBeNaN();
    // The empty error file of a successful job is read like any other.
    expect(record?.shards[0]?.error_file_id).toBeTruthy();

    const results = await client.retrieveBatchResults("az-1");
    expect(results.map((result) => [result.id, result.status, result.finishReason])).toEqual(
      requests(4).map((request) => [request.id, "succeeded", "stop"]),
    );
    expect(JSON.stringify(results[0]?.raw)).toContain("content_filter_results");
    expect(paths().some((path) => path.includes("/deployments/"))).toBe(false);
  });

  it("the versioned API when OPENAI_API_VERSION is set: api-version on every request, lower-case statuses", async () => {
    const client = harness.client({
      providers: {},
      env: {
        AZURE_OPENAI_API_KEY: TEST_KEYS.azure,
        AZURE_OPENAI_ENDPOINT: `${harness.emulator.baseURL("azure")}/`,
        OPENAI_API_VERSION: "2024-10-21",
      },
    });
    const job = await client.submitBatch({ requests: requests(3), jobId: "az-ga", provider: "azure" });
    expect(job).toMatchObject({ status: "pending", providerStatus: "validating" });
    expect(paths()).toEqual(["POST /azure/openai/files", "POST /azure/openai/batches"]);
    // The GA api-version documents no file expiry, so none is sent.
    const batch = batchAt(azure());
    expect(azure().files.get(batch.inputFileId)?.expiresAt).toBeUndefined();
    expect(batch.outputExpiresAfterSeconds).toBeUndefined();

    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.monitorBatch("az-ga")).toMatchObject({ status: "completed", completedRequests: 3 });
    const results = await client.retrieveBatchResults("az-ga");
    expect(results.map((result) => result.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    // The emulator answers 404 to a versioned request without api-version: every request above carried it.
    expect(harness.emulator.requestLog.every((entry) => entry.status === 200)).toBe(true);
  });

  it("sends file expiries on preview api-versions from 2025-03-01", async () => {
    await clientWith({ apiVersion: "2025-04-01-preview" }).submitBatch({
      requests: requests(1),
      jobId: "az-preview",
      provider: "azure",
    });
    expect(batchAt(azure()).outputExpiresAfterSeconds).toBe(THIRTY_DAYS_S);
  });

  it("a job slower than 24 hours keeps running, as Azure does not expire jobs; one that cannot finish expires", async () => {
    harness.emulator.timing.inProgressMs = 30 * HOUR_MS;
    const client = harness.client();
    await client.submitBatch({ requests: requests(3), jobId: "az-slow", provider: "azure" });
    harness.emulator.setFate("stuck", "expire");
    const stuck = [
      { id: "fine", model: DEPLOYMENT, prompt: "This one finishes after 15 hours." },
      { id: "stuck", model: DEPLOYMENT, prompt: "This one never does." },
    ];
    await client.submitBatch({ requests: stuck, jobId: "az-stuck", provider: "azure" });
    harness.clock.advance(26 * HOUR_MS);
    expect(await client.monitorBatch("az-slow")).toMatchObject({
      status: "in_progress",
      providerStatus: "InProgress",
    });
    expect(await client.monitorBatch("az-stuck")).toMatchObject({
      status: "expired",
      providerStatus: "Expired",
    });
    expect(
      (await client.retrieveBatchResults("az-stuck")).map((result) => [result.id, result.status]),
    ).toEqual([
      ["fine", "succeeded"],
      ["stuck", "expired"],
    ]);
    harness.clock.advance(5 * HOUR_MS);
    expect((await client.monitorBatch("az-slow")).status).toBe("completed");
    expect(
      (await client.retrieveBatchResults("az-slow")).every((result) => result.status === "succeeded"),
    ).toBe(true);
  });

  it("cancels midway: finished requests keep their results, the rest come back cancelled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requests(4), jobId: "az-cancel", provider: "azure" });
    harness.clock.advance(500 + 1_100);
    expect(await client.cancelBatch("az-cancel")).toBe(true);
    expect((await client.monitorBatch("az-cancel")).providerStatus).toBe("Cancelling");
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("az-cancel")).status).toBe("cancelled");
    const results = await client.retrieveBatchResults("az-cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
  });

  it("puts each deployment in its own batch and splits by the configured limit", async () => {
    const client = clientWith({ maxRequestsPerBatch: 2 });
    const mixed = [
      ...requests(3),
      ...requests(2, "gpt-4o-batch").map((r, i) => ({ ...r, id: `other-${i}` })),
    ];
    const job = await client.submitBatch({ requests: mixed, jobId: "az-shards", provider: "azure" });
    expect(job.providerBatchIds).toHaveLength(3);
    for (const batch of azure().batches.values()) {
      expect(new Set([...eachRequest(batch.sim.requests)].map((request) => request.model)).size).toBe(1);
    }
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("az-shards");
    expect(results.map((result) => result.id)).toEqual(mixed.map((request) => request.id));
  });

  it("a batch creation whose answer is lost is found by its metadata, not created twice", async () => {
    const client = clientWith({ apiVersion: "2024-10-21" });
    harness.emulator.faults.add({ method: "POST", path: /\/batches$/, action: { kind: "drop_response" } });
    const job = await client.submitBatch({ requests: requests(3), jobId: "az-lost", provider: "azure" });
    expect(harness.emulator.batchCount("azure")).toBe(1);
    expect(job.providerBatchIds).toEqual([batchAt(azure()).sim.id]);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.retrieveBatchResults("az-lost")).toHaveLength(3);
  });

  it("a resource out of file quota refuses the upload; the job is kept and goes on once there is room", async () => {
    const client = clientWith({ apiVersion: "2024-10-21" });
    azure().fileQuota.withoutExpiry = 0;
    const attempt = client.submitBatch({ requests: requests(2), jobId: "az-quota", provider: "azure" });
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 400,
      message: expect.stringContaining("quota for files without expiry"),
    });
    expect((await client.getJob("az-quota"))?.shards[0]?.state).toBe("planned");
    azure().fileQuota.withoutExpiry = 500;
    expect((await client.monitorBatch("az-quota")).providerBatchIds[0]).toMatch(/^batch_/);
  });

  it("a wrong key is a 401 ProviderError; nothing is created", async () => {
    const attempt = clientWith({ apiKey: "not-the-key" }).submitBatch({
      requests: requests(1),
      jobId: "az-401",
      provider: "azure",
    });
    await expect(attempt).rejects.toMatchObject({
      name: "ProviderError",
      httpStatus: 401,
      message: expect.stringContaining("Access denied due to invalid subscription key"),
    });
    expect(harness.emulator.batchCount("azure")).toBe(0);
  });

  it.each([
    ["no key", { AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9" }, MissingApiKeyError, "missing_api_key"],
    ["no endpoint", { AZURE_OPENAI_API_KEY: "k" }, ValidationError, "missing_endpoint"],
    [
      "an endpoint that is no URL",
      { AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "res.openai" },
      ValidationError,
      // Every provider's base URL is checked in one place before the adapter sees it.
      "invalid_option",
    ],
    [
      "an api-version that is none",
      {
        AZURE_OPENAI_API_KEY: "k",
        AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9",
        OPENAI_API_VERSION: "latest",
      },
      ValidationError,
      "invalid_api_version",
    ],
  ])("%s is a clear error before anything is sent", async (_label, env, type, code) => {
    const attempt = harness
      .client({ providers: {}, env })
      .submitBatch({ requests: requests(1), jobId: "az-config", provider: "azure" });
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toMatchObject({ code });
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("names AZURE_OPENAI_API_KEY when the key is missing", async () => {
    const submit = harness
      .client({ providers: {}, env: { AZURE_OPENAI_ENDPOINT: harness.emulator.baseURL("azure") } })
      .submitBatch({ requests: requests(1), jobId: "az-nokey", provider: "azure" });
    await expect(submit).rejects.toMatchObject({
      envVar: "AZURE_OPENAI_API_KEY",
      message: expect.stringContaining("AZURE_OPENAI_API_KEY"),
    });
  });
});
