/**
 * The conformance suite: every provider adapter, driven through the emulator over real HTTP, must behave the same
 * way here. A provider that does not pass it is not supported. Every registered provider runs it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BatchResult, type JobStatus, supportedProviders } from "../src/index.js";
import { batchExpiryOf } from "../src/providers/entry.js";
import { providerEntry } from "../src/providers/registry.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";
import { relay } from "./support/relay-process.js";

describe.each(supportedProviders())("conformance: %s", (provider) => {
  const model = providerEntry(provider).demoModel;
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const requests = (count: number) => exampleRequests(count, model);

  function expectNormalisedSuccess(result: BatchResult, prompt: string) {
    expect(result.status).toBe("succeeded");
    expect(result.text).toContain(prompt.slice(0, 30));
    expect(result.usage?.inputTokens).toBeGreaterThan(0);
    expect(result.usage?.outputTokens).toBeGreaterThan(0);
    expect(result.usage?.totalTokens).toBe(
      (result.usage?.inputTokens ?? 0) + (result.usage?.outputTokens ?? 0),
    );
    expect(result.finishReason).toBe("stop");
    expect(result.error).toBeUndefined();
    expect(result.raw).toBeTypeOf("object");
    expect(JSON.stringify(result.raw)).toContain(result.id);
  }

  it("submits, passes through each status on the way, and completes", async () => {
    const client = harness.client();
    const job = await client.submitBatch({
      requests: requests(4),
      jobId: "flow",
      provider,
      description: "conformance",
    });
    expect(job).toMatchObject({ jobId: "flow", provider, nRequests: 4, description: "conformance" });
    expect(job.providerBatchIds[0]).toBeTruthy();
    expect(["pending", "in_progress"]).toContain(job.status);
    expect(job.providerStatus).not.toBe("");

    const seen: JobStatus[] = [job.status];
    for (const step of [300, 400, 1_000, 1_000, 500, ENOUGH_TIME_MS]) {
      harness.clock.advance(step);
      const status = (await client.monitorBatch("flow")).status;
      if (seen.at(-1) !== status) seen.push(status);
    }
    expect(seen).toContain("in_progress");
    expect(seen.at(-1)).toBe("completed");
    const order = ["pending", "in_progress", "completed"];
    expect(seen.map((status) => order.indexOf(status))).toEqual(
      [...seen.map((status) => order.indexOf(status))].sort(),
    );

    const done = await client.monitorBatch("flow");
    expect(done).toMatchObject({
      status: "completed",
      nRequests: 4,
      completedRequests: 4,
      failedRequests: 0,
    });
    const results = await client.retrieveBatchResults("flow");
    expect(results.map((result) => result.id)).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    results.forEach((result, index) => {
      expectNormalisedSuccess(result, requests(4)[index]?.prompt ?? "");
    });
  });

  it("gives one normalised result per request when items succeed and fail, in request order", async () => {
    const client = harness.client();
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-5", "error");
    await client.submitBatch({ requests: requests(6), jobId: "failing", provider });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("failing")).status).toBe("completed");
    const results = await client.retrieveBatchResults("failing");
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ["req-1", "succeeded"],
      ["req-2", "failed"],
      ["req-3", "succeeded"],
      ["req-4", "succeeded"],
      ["req-5", "failed"],
      ["req-6", "succeeded"],
    ]);
    for (const failed of results.filter((result) => result.status !== "succeeded")) {
      expect(failed.error?.message).toBeTruthy();
      expect(failed.text).toBeUndefined();
    }
    expectNormalisedSuccess(results[0] as BatchResult, requests(1)[0]?.prompt ?? "");
  });

  it("gives one normalised result per request when items succeed, fail and expire, in request order", async () => {
    const expiry = batchExpiryOf(providerEntry(provider));
    const client = harness.client();
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-4", "expire");
    harness.emulator.setFate("req-5", "error");
    await client.submitBatch({ requests: requests(6), jobId: "mixed", provider });
    harness.clock.advance(expiry.afterMs + 60 * 60_000);
    const job = await client.monitorBatch("mixed");
    expect(["completed", "expired"]).toContain(job.status);
    const results = await client.retrieveBatchResults("mixed");
    const outcomes = [
      ["req-1", "succeeded"],
      ["req-2", "failed"],
      ["req-3", "succeeded"],
      ["req-4", "expired"],
      ["req-5", "failed"],
      ["req-6", "succeeded"],
    ];
    // Where an expired batch keeps nothing (Gemini), every request comes back expired.
    expect(results.map((result) => [result.id, result.status])).toEqual(
      expiry.keepsFinishedResults ? outcomes : outcomes.map(([id]) => [id, "expired"]),
    );
    for (const failed of results.filter((result) => result.status !== "succeeded")) {
      expect(failed.error?.message).toBeTruthy();
      expect(failed.text).toBeUndefined();
    }
    if (expiry.keepsFinishedResults) {
      expectNormalisedSuccess(results[0] as BatchResult, requests(1)[0]?.prompt ?? "");
    }
  });

  it("cancels midway: finished items keep their results, the others come back cancelled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: requests(4), jobId: "cancel", provider });
    harness.clock.advance(500 + 1_100);
    expect(await client.cancelBatch("cancel")).toBe(true);
    expect(["cancelling", "cancelled"]).toContain((await client.getJob("cancel"))?.status);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("cancel")).status).toBe("cancelled");
    const results = await client.retrieveBatchResults("cancel");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
  });

  it("lets a second process pick the job up from the workspace", async () => {
    await harness.client().submitBatch({ requests: requests(3), jobId: "handover", provider });
    harness.clock.advance(ENOUGH_TIME_MS);
    const env = harness.env(provider);
    const status = await relay(["status", "handover"], env);
    expect(status.stdout).toContain("handover: completed");
    expect(status.stdout).toContain("3/3 done");
    const results = await relay(["results", "handover", "--json"], env);
    expect(results.stderr).toBe("");
    const lines = results.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as BatchResult);
    expect(lines.map((line) => [line.id, line.status])).toEqual([
      ["req-1", "succeeded"],
      ["req-2", "succeeded"],
      ["req-3", "succeeded"],
    ]);
    // And back in this process, from the workspace only.
    expect(await harness.client().getResults("handover")).toEqual(lines);
  });

  it("refuses a request ID the provider would reject, before anything is sent", async () => {
    const client = harness.client();
    await expect(
      client.submitBatch({
        requests: [{ id: "bad id with spaces", model, prompt: "x" }],
        jobId: "bad",
        provider,
      }),
    ).rejects.toMatchObject({ code: "invalid_request_id" });
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("reads the file a demo user would write", async () => {
    const file = join(harness.directory, "in.jsonl");
    await writeFile(
      file,
      requests(2)
        .map((request) => JSON.stringify(request))
        .join("\n"),
    );
    const env = harness.env(provider);
    const submitted = await relay(["submit", file, "--job", "from-file", "--provider", provider], env);
    expect(submitted.stderr).toBe("");
    expect(harness.emulator.batchCount(provider)).toBe(1);
  });
});
