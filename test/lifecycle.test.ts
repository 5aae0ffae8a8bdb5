import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CostTally } from "../src/cost/tally.js";
import { type BatchRequest, type RelayError, WaitTimeoutError } from "../src/index.js";
import type { JobProgress } from "../src/jobs/watch.js";
import { anthropicEntry } from "../src/providers/anthropic/entry.js";
import { openaiEntry } from "../src/providers/openai/entry.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

describe("the job lifecycle", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  async function finished(jobId: string) {
    harness.clock.advance(25 * 60 * 60_000);
    return harness.client().monitorBatch(jobId);
  }

  /** The input lines the emulator received for a job's batches, by custom_id. */
  async function linesSentFor(jobId: string): Promise<Map<string, string>> {
    const record = await harness.client().getJob(jobId);
    const emulation = harness.emulator.providers.openai;
    const lines = new Map<string, string>();
    for (const shard of record?.shards ?? []) {
      const file = emulation.files.get(shard.input_file_id ?? "");
      for (const line of file?.data?.toString("utf8").split("\n") ?? []) {
        if (line) lines.set(JSON.parse(line).custom_id, line);
      }
    }
    return lines;
  }

  it("retries exactly the failed and expired requests, as first sent, in a linked follow-up job; merged results take the latest attempt", async () => {
    const client = harness.client({
      providers: {
        openai: { apiKey: "k", baseURL: harness.emulator.baseURL("openai"), maxRequestsPerBatch: 3 },
      },
    });
    const requests = exampleRequests(7);
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-5", "expire");
    harness.emulator.setFate("req-7", "error");
    await client.submitBatch({ requests, jobId: "parent", provider: "openai" });
    await finished("parent");
    const first = await client.retrieveBatchResults("parent");
    expect(first.map((result) => result.status)).toEqual([
      "succeeded",
      "failed",
      "succeeded",
      "succeeded",
      "expired",
      "succeeded",
      "failed",
    ]);

    // The follow-up fails again for one of them: its fate is still set.
    harness.emulator.setFate("req-5", "succeed");
    harness.emulator.setFate("req-2", "succeed");
    const retry = await client.retryFailed("parent");
    expect(retry.jobId).toBe("parent-retry-1");
    expect(retry.nRequests).toBe(3);
    const parentRecord = await client.getJob("parent");
    const childRecord = await client.getJob("parent-retry-1");
    expect(parentRecord?.retry_job_ids).toEqual(["parent-retry-1"]);
    expect(childRecord?.parent_job_id).toBe("parent");

    // The follow-up sent the very lines the first job sent for those requests.
    const sentFirst = await linesSentFor("parent");
    const sentAgain = await linesSentFor("parent-retry-1");
    expect([...sentAgain.keys()]).toEqual(["req-2", "req-5", "req-7"]);
    for (const [id, line] of sentAgain) expect(line).toBe(sentFirst.get(id));

    await finished("parent-retry-1");
    const merged = await client.retrieveBatchResults("parent", { merged: true });
    expect(merged.map((result) => [result.id, result.status, result.attempt])).toEqual([
      ["req-1", "succeeded", { jobId: "parent", number: 0 }],
      ["req-2", "succeeded", { jobId: "parent-retry-1", number: 1 }],
      ["req-3", "succeeded", { jobId: "parent", number: 0 }],
      ["req-4", "succeeded", { jobId: "parent", number: 0 }],
      ["req-5", "succeeded", { jobId: "parent-retry-1", number: 1 }],
      ["req-6", "succeeded", { jobId: "parent", number: 0 }],
      ["req-7", "failed", { jobId: "parent-retry-1", number: 1 }],
    ]);
    // The unmerged results stay what each job got.
    expect((await client.retrieveBatchResults("parent"))[1]?.status).toBe("failed");

    // Retrying the retry: only req-7 is left, and the chain merges through both follow-ups.
    harness.emulator.setFate("req-7", "succeed");
    const again = await client.retryFailed("parent-retry-1", { jobId: "second-try", statuses: ["failed"] });
    expect(again.nRequests).toBe(1);
    await finished("second-try");
    const chain = await client.retrieveBatchResults("parent", { merged: true });
    expect(chain.every((result) => result.status === "succeeded")).toBe(true);
    expect(chain[6]?.attempt).toEqual({ jobId: "second-try", number: 2 });

    // Nothing left to retry says so, and makes no job.
    const jobs = await client.listJobs();
    await expect(client.retryFailed("second-try")).rejects.toMatchObject({ code: "nothing_to_retry" });
    expect(await client.listJobs()).toEqual(jobs);
  });

  it("refuses to retry a running job, an unknown job, or an unknown status, before anything is made", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(2), jobId: "running", provider: "openai" });
    await expect(client.retryFailed("running")).rejects.toMatchObject({ code: "job_not_finished" });
    await expect(client.retryFailed("nope")).rejects.toMatchObject({ code: "job_not_found" });
    await expect(
      client.retryFailed("running", { statuses: ["succeeded" as "failed"] }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    expect(await client.listJobs()).toEqual(["running"]);
  });

  it("lists jobs by status, provider, date and text, newest first", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: exampleRequests(1),
      jobId: "alpha",
      provider: "openai",
      description: "Sentiment run",
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.submitBatch({
      requests: exampleRequests(1, "claude-sonnet-4-5"),
      jobId: "beta",
      provider: "anthropic",
      description: "Labels",
    });
    await finished("alpha");
    const all = await client.getAllJobs();
    expect(all.map((job) => job.job_id)).toEqual(["beta", "alpha"]);
    expect((await client.getAllJobs({ provider: "openai" })).map((job) => job.job_id)).toEqual(["alpha"]);
    expect((await client.getAllJobs({ status: "completed" })).map((job) => job.job_id)).toEqual(["alpha"]);
    expect((await client.getAllJobs({ search: "SENTIMENT" })).map((job) => job.job_id)).toEqual(["alpha"]);
    expect((await client.getAllJobs({ search: "bet" })).map((job) => job.job_id)).toEqual(["beta"]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await client.getAllJobs({ since: today, until: today })).toHaveLength(2);
    expect(await client.getAllJobs({ until: "2020-01-01" })).toEqual([]);
    expect(await client.getAllJobs({ since: new Date(Date.now() + 60_000) })).toEqual([]);
    await expect(client.getAllJobs({ since: "last tuesday" })).rejects.toMatchObject({
      code: "invalid_input",
    });
  });

  it("estimates cost before and counts it after, at batch prices, by hand-checked figures", async () => {
    const client = harness.client();
    const requests: BatchRequest[] = exampleRequests(4).map((request) => ({ ...request, maxTokens: 100 }));
    const estimate = await client.estimateCost({ requests, provider: "openai" });
    // gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million output tokens; batches at half price.
    // Each request is 30 prompt tokens by gpt-4o-mini's tokenizer; output at its maxTokens.
    expect(estimate.exactInputTokens).toBe(true);
    expect(estimate.inputTokens).toBe(120);
    expect(estimate.outputTokens).toBe(400);
    expect(estimate.costUsd).toBeCloseTo(((120 * 0.15 + 400 * 0.6) / 1e6) * 0.5, 12);
    expect(estimate.byModel["gpt-4o-mini"]?.requests).toBe(4);
    expect(estimate.batchDiscount.multiplier).toBe(0.5);
    expect(estimate.pricesAsOf).toMatch(/genai-prices \d+\.\d+/);

    await client.submitBatch({ requests, jobId: "priced", provider: "openai" });
    expect((await client.jobCost("priced")).resultsStored).toBe(false);
    expect((await client.jobCost("priced")).costUsd).toBeNull();
    expect((await client.getJob("priced"))?.estimated_cost?.cost_usd).toBeGreaterThan(0);
    await finished("priced");
    const results = await client.retrieveBatchResults("priced");
    const input = results.reduce((sum, result) => sum + (result.usage?.inputTokens ?? 0), 0);
    const output = results.reduce((sum, result) => sum + (result.usage?.outputTokens ?? 0), 0);
    const cost = await client.jobCost("priced");
    expect(cost.resultsStored).toBe(true);
    expect(cost.inputTokens).toBe(input);
    expect(cost.outputTokens).toBe(output);
    expect(cost.costUsd).toBeCloseTo(((input * 0.15 + output * 0.6) / 1e6) * 0.5, 12);
  });

  it("names a model without a price and gives no total, never $0", async () => {
    const estimate = await harness.client().estimateCost({
      requests: [...exampleRequests(1), ...exampleRequests(1, "my-private-finetune")].map(
        (request, index) => ({
          ...request,
          id: `r${index}`,
        }),
      ),
      provider: "openai",
    });
    expect(estimate.costUsd).toBeNull();
    expect(estimate.unknownModels).toEqual(["my-private-finetune"]);
    expect(estimate.byModel["gpt-4o-mini"]?.costUsd).toBeGreaterThan(0);
    expect(estimate.exactInputTokens).toBe(false);
  });

  it("prices cached input as cached, cache writes as writes, and long prompts at the long-context rate", () => {
    const openai = new CostTally(openaiEntry);
    openai.add("gpt-4o-mini", {
      inputTokens: 1_000_000,
      cachedInputTokens: 400_000,
      outputTokens: 0,
      totalTokens: 1_000_000,
    });
    // 600k uncached at $0.15/M, 400k cached at $0.075/M, half price.
    expect(openai.report().costUsd).toBeCloseTo((0.6 * 0.15 + 0.4 * 0.075) * 0.5, 12);

    const anthropic = new CostTally(anthropicEntry);
    anthropic.add("claude-sonnet-4-5", {
      inputTokens: 1_000,
      cacheWriteInputTokens: 200,
      cachedInputTokens: 300,
      outputTokens: 100,
      totalTokens: 1_100,
    });
    // 500 uncached at $3/M, 200 written at $3.75/M, 300 read at $0.30/M, 100 out at $15/M; half price.
    expect(anthropic.report().costUsd).toBeCloseTo(
      ((500 * 3 + 200 * 3.75 + 300 * 0.3 + 100 * 15) / 1e6) * 0.5,
      12,
    );
    // A request past 200k prompt tokens is priced at the long-context rate ($6/M in, $22.5/M out), on its own.
    const long = new CostTally(anthropicEntry);
    long.add("claude-sonnet-4-5", { inputTokens: 300_000, outputTokens: 1_000, totalTokens: 301_000 });
    long.add("claude-sonnet-4-5", { inputTokens: 1_000, outputTokens: 1_000, totalTokens: 2_000 });
    expect(long.report().costUsd).toBeCloseTo(
      ((300_000 * 6 + 1_000 * 22.5) / 1e6 + (1_000 * 3 + 1_000 * 15) / 1e6) * 0.5,
      12,
    );
  });

  it("waits with progress per shard, shows finalizing as such, fetches results when asked, and gives up on a timeout", async () => {
    const client = harness.client({
      providers: {
        openai: { apiKey: "k", baseURL: harness.emulator.baseURL("openai"), maxRequestsPerBatch: 2 },
      },
    });
    await client.submitBatch({ requests: exampleRequests(4), jobId: "watched", provider: "openai" });
    const reports: JobProgress[] = [];
    // Each check moves the emulator's clock on by 700 ms: validating 500, running 2000, finalizing 500.
    await client.waitForBatch("watched", {
      pollIntervalMs: 1,
      fetchResults: true,
      onProgress: (progress) => {
        reports.push(progress);
        harness.clock.advance(700);
      },
    });
    expect(reports[0]?.shards).toHaveLength(2);
    expect(reports.some((report) => report.finalizing && report.status === "in_progress")).toBe(true);
    const finalizing = reports.find((report) => report.finalizing);
    expect(finalizing?.shards.every((shard) => shard.finalizing && shard.remaining === 0)).toBe(true);
    expect(reports.at(-1)).toMatchObject({
      status: "completed",
      completed: 4,
      remaining: 0,
      etaMs: 0,
      finalizing: false,
    });
    expect(await client.hasResults("watched")).toBe(true);

    await client.submitBatch({ requests: exampleRequests(2), jobId: "stuck", provider: "openai" });
    const started = Date.now();
    const timedOut = await client
      .waitForBatch("stuck", { pollIntervalMs: 20, timeoutMs: 100 })
      .catch((error) => error);
    expect(timedOut).toBeInstanceOf(WaitTimeoutError);
    expect((timedOut as RelayError).code).toBe("wait_timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("records when results stop being downloadable, and deletes the provider's files only once results are stored", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(3), jobId: "tidy", provider: "openai" });
    await expect(client.cleanup("tidy")).rejects.toMatchObject({ code: "results_not_stored" });
    await expect(client.cleanup("no-such-job")).rejects.toMatchObject({ code: "job_not_found" });
    const job = await finished("tidy");
    expect(job.status).toBe("completed");
    const record = await client.getJob("tidy");
    const shard = record?.shards[0];
    // OpenAI keeps output files 30 days after the batch ended (the emulator's clock is 25 hours ahead).
    const expiresIn = Date.parse(shard?.results_expire_at ?? "") - Date.now();
    expect(expiresIn).toBeGreaterThan(30 * 24 * 3600_000);
    expect(expiresIn).toBeLessThan(32 * 24 * 3600_000);
    const files = harness.emulator.providers.openai.files;
    const ids = [shard?.input_file_id, shard?.output_file_id].filter((id): id is string => Boolean(id));
    expect(ids.every((id) => files.get(id))).toBe(true);

    await client.retrieveBatchResults("tidy");
    const report = await client.cleanup("tidy");
    expect(report.deleted.sort()).toEqual(ids.sort());
    expect(ids.some((id) => files.get(id))).toBe(false);
    expect((await client.getJob("tidy"))?.shards[0]?.cleaned_at).toBeTruthy();
    // The stored results are untouched, and a second cleanup has nothing left to do.
    expect((await client.getResults("tidy"))?.every((result) => result.status === "succeeded")).toBe(true);
    expect((await client.cleanup("tidy")).deleted).toEqual([]);
    const stored = JSON.parse(await readFile(join(harness.directory, "tidy_results.json"), "utf8"));
    expect(stored).toHaveLength(3);
  });

  it("anthropic: results are kept 29 days from creation, and cleanup deletes the ended batch", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: exampleRequests(2, "claude-sonnet-4-5"),
      jobId: "claude",
      provider: "anthropic",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.retrieveBatchResults("claude");
    const record = await client.getJob("claude");
    const shard = record?.shards[0];
    expect(shard?.results_expire_at).toBeTruthy();
    const batchCount = harness.emulator.batchCount("anthropic");
    const report = await client.cleanup("claude");
    expect(report.deleted).toEqual([shard?.provider_batch_id]);
    expect(harness.emulator.batchCount("anthropic")).toBe(batchCount - 1);
  });
});

describe("planBatch", () => {
  it("shows how a job would be split, sending and storing nothing", async () => {
    const harness = await startHarness();
    try {
      const client = harness.client({
        providers: {
          openai: { apiKey: "k", baseURL: harness.emulator.baseURL("openai"), maxRequestsPerBatch: 2 },
        },
      });
      const plan = await client.planBatch({ requests: exampleRequests(5), provider: "openai" });
      expect(plan.nRequests).toBe(5);
      expect(plan.shards.map((shard) => [shard.model, shard.nRequests])).toEqual([
        ["gpt-4o-mini", 2],
        ["gpt-4o-mini", 2],
        ["gpt-4o-mini", 1],
      ]);
      expect(plan.shards.every((shard) => shard.bytes > 0 && shard.estimatedTokens > 0)).toBe(true);
      expect(harness.emulator.requestLog).toEqual([]);
      expect(await client.listJobs()).toEqual([]);
      await expect(
        client.planBatch({ requests: [{ id: "a b", model: "m", prompt: "x" }], provider: "openai" }),
      ).rejects.toMatchObject({ code: "invalid_request_id" });
    } finally {
      await harness.close();
    }
  });
});
