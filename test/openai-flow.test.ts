import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobNotFinishedError } from "../src/index.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

describe("OpenAI round trip through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("submits, monitors through every status and retrieves results in request order", async () => {
    const client = harness.client();
    const requests = exampleRequests(5);
    const job = await client.submitBatch({
      requests,
      jobId: "job-1",
      provider: "openai",
      description: "first",
    });
    expect(job).toMatchObject({
      jobId: "job-1",
      status: "pending",
      providerStatus: "validating",
      nRequests: 5,
    });
    expect(job.providerBatchIds).toHaveLength(1);
    expect(Date.parse(job.submittedAt)).not.toBeNaN();

    harness.clock.advance(600);
    const running = await client.monitorBatch("job-1");
    expect(running).toMatchObject({ status: "in_progress", providerStatus: "in_progress" });

    harness.clock.advance(2_000);
    const finalizing = await client.monitorBatch("job-1");
    expect(finalizing).toMatchObject({
      status: "in_progress",
      providerStatus: "finalizing",
      completedRequests: 5,
    });
    await expect(client.retrieveBatchResults("job-1")).rejects.toBeInstanceOf(JobNotFinishedError);

    harness.clock.advance(ENOUGH_TIME_MS);
    const done = await client.monitorBatch("job-1");
    expect(done).toMatchObject({
      status: "completed",
      providerStatus: "completed",
      completedRequests: 5,
      failedRequests: 0,
    });

    const results = await client.retrieveBatchResults("job-1");
    expect(results.map((result) => result.id)).toEqual(requests.map((request) => request.id));
    for (const [index, result] of results.entries()) {
      expect(result.status).toBe("succeeded");
      expect(result.text).toContain(`Question number ${index + 1}`);
      expect(result.usage?.inputTokens).toBeGreaterThan(0);
      expect(result.usage?.outputTokens).toBeGreaterThan(0);
      expect(result.finishReason).toBe("stop");
      expect((result.raw as { custom_id: string }).custom_id).toBe(result.id);
    }
    // The provider's output file lists the results out of order; Relay restored the order.
    const batch = [...harness.emulator.providers.openai.batches.values()][0];
    const output = harness.emulator.providers.openai.files.get(batch?.outputFileId ?? "");
    if (!output) throw new Error("the batch has no output file");
    const fileOrder = [...harness.emulator.providers.openai.files.contentLines(output)].map(
      (line) => (JSON.parse(line) as { custom_id: string }).custom_id,
    );
    expect([...fileOrder].sort()).toEqual(requests.map((request) => request.id).sort());
    expect(fileOrder).not.toEqual(requests.map((request) => request.id));
  });

  it("sends chat-completions lines by default and Responses-API lines when asked", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [
        {
          id: "a",
          model: "gpt-4o-mini",
          systemPrompt: "Be brief.",
          prompt: "Hi",
          maxTokens: 50,
          providerArgs: { temperature: 0.2 },
        },
      ],
      jobId: "chat",
      provider: "openai",
    });
    await client.submitBatch({
      requests: [
        {
          id: "a",
          model: "gpt-4o-mini",
          systemPrompt: "Be brief.",
          prompt: "Hi",
          providerArgs: { reasoning_effort: "low", max_tokens: 3 },
        },
      ],
      jobId: "responses",
      provider: "openai",
      endpoint: "/v1/responses",
    });
    const uploaded = harness.emulator.providers.openai.files
      .list()
      .filter((file) => file.purpose === "batch");
    const lines = uploaded.map((file) => JSON.parse(file.data?.toString("utf8").trim() ?? "{}"));
    expect(lines[0]).toEqual({
      custom_id: "a",
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
        max_completion_tokens: 50,
        temperature: 0.2,
      },
    });
    expect(lines[1]).toEqual({
      custom_id: "a",
      method: "POST",
      url: "/v1/responses",
      body: {
        model: "gpt-4o-mini",
        input: "Hi",
        instructions: "Be brief.",
        max_output_tokens: 3,
        reasoning: { effort: "low" },
      },
    });

    harness.clock.advance(ENOUGH_TIME_MS);
    const [result] = await client.retrieveBatchResults("responses");
    expect(result).toMatchObject({ id: "a", status: "succeeded", finishReason: "length" });
    expect(result?.usage?.outputTokens).toBe(3);
    expect(
      (result?.raw as { response: { body: { object: string } } } | undefined)?.response.body.object,
    ).toBe("response");
  });

  it("gives every request one result: failed, errored and expired ones included, from both files", async () => {
    const client = harness.client();
    harness.emulator.setFate("req-2", "fail");
    harness.emulator.setFate("req-3", "error");
    harness.emulator.setFate("req-4", "expire");
    const requests = exampleRequests(5);
    await client.submitBatch({ requests, jobId: "mixed", provider: "openai" });
    harness.clock.advance(25 * 60 * 60_000);
    const job = await client.monitorBatch("mixed");
    expect(job).toMatchObject({ status: "expired", providerStatus: "expired" });

    const results = await client.retrieveBatchResults("mixed");
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ["req-1", "succeeded"],
      ["req-2", "failed"],
      ["req-3", "failed"],
      ["req-4", "expired"],
      ["req-5", "succeeded"],
    ]);
    expect(results[1]?.error).toEqual({
      code: "emulated_failure",
      message: expect.stringContaining("failure"),
    });
    expect(results[2]?.error?.code).toBe("server_error");
    expect(results[3]?.error?.code).toBe("batch_expired");
    expect(results[3]?.raw).not.toBeNull();
  });

  it("returns failed results when every request failed and there is no output file", async () => {
    const client = harness.client();
    for (const id of ["req-1", "req-2"]) harness.emulator.setFate(id, "fail");
    await client.submitBatch({ requests: exampleRequests(2), jobId: "all-failed", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const job = await client.monitorBatch("all-failed");
    expect(job.status).toBe("completed");
    const batch = harness.emulator.providers.openai.batches.values().next().value;
    expect(batch?.outputFileId).toBeUndefined();
    const results = await client.retrieveBatchResults("all-failed");
    expect(results.map((result) => result.status)).toEqual(["failed", "failed"]);
  });

  it("fails every request of a batch that failed validation, with the provider's reason", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [...exampleRequests(2), { id: "bad", model: "gpt-4o-mini", prompt: "[emulator:invalid]" }],
      jobId: "invalid",
      provider: "openai",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("invalid")).status).toBe("failed");
    const results = await client.retrieveBatchResults("invalid");
    expect(results).toHaveLength(3);
    for (const result of results) {
      expect(result.status).toBe("failed");
      expect(result.error?.code).toBe("invalid_request");
      expect(result.error?.message).toContain("line 3");
    }
  });

  it("cancels midway: finished requests keep their results, the rest are cancelled", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(4), jobId: "cancel-me", provider: "openai" });
    harness.clock.advance(500 + 1_100); // validated, then two of four requests done
    expect(await client.cancelBatch("cancel-me")).toBe(true);
    expect((await client.monitorBatch("cancel-me")).status).toBe("cancelling");
    await expect(client.retrieveBatchResults("cancel-me")).rejects.toMatchObject({
      code: "job_not_finished",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("cancel-me")).status).toBe("cancelled");
    const results = await client.retrieveBatchResults("cancel-me");
    expect(results.map((result) => result.status)).toEqual([
      "succeeded",
      "succeeded",
      "cancelled",
      "cancelled",
    ]);
    expect(await client.cancelBatch("cancel-me")).toBe(false);
  });

  it("caches results after the first fetch and fetches again with forceRefresh", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(3), jobId: "cache", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await client.hasResults("cache")).toBe(false);
    expect(await client.getResults("cache")).toBeNull();
    const first = await client.retrieveBatchResults("cache");
    const calls = harness.emulator.requestLog.length;
    expect(await client.hasResults("cache")).toBe(true);
    expect(await client.retrieveBatchResults("cache")).toEqual(first);
    expect(await client.getResults("cache")).toEqual(first);
    expect(harness.emulator.requestLog.length).toBe(calls);
    const refreshed = await client.retrieveBatchResults("cache", { forceRefresh: true });
    expect(refreshed).toEqual(first);
    expect(harness.emulator.requestLog.length).toBeGreaterThan(calls);

    const text = await readFile(join(harness.directory, "cache_results.json"), "utf8");
    expect(JSON.parse(text)).toEqual(first);
    expect(text.split("\n")).toHaveLength(first.length + 3); // "[", one line per result, "]", trailing newline
  });

  it("lets a second client (another process) pick the job up from the workspace", async () => {
    await harness
      .client()
      .submitBatch({ requests: exampleRequests(3), jobId: "shared", provider: "openai", description: "d" });
    const other = harness.client();
    expect(await other.listJobs()).toEqual(["shared"]);
    expect(await other.getJob("shared")).toMatchObject({
      job_id: "shared",
      provider: "openai",
      n_requests: 3,
      description: "d",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    expect(await other.monitorBatch("shared")).toMatchObject({
      status: "completed",
      nRequests: 3,
      completedRequests: 3,
    });
    expect((await other.retrieveBatchResults("shared")).map((result) => result.id)).toEqual([
      "req-1",
      "req-2",
      "req-3",
    ]);
  });
});
