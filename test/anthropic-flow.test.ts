import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MissingApiKeyError, RelayClient, ValidationError } from "../src/index.js";
import { DEFAULT_MAX_TOKENS } from "../src/providers/anthropic/encode.js";
import type { BatchRequest } from "../src/types.js";
import { type Harness, startHarness } from "./support/harness.js";

const MODEL = "claude-sonnet-4-5";
const DAY_MS = 24 * 60 * 60_000;

function requestsFor(ids: string[]): BatchRequest[] {
  return ids.map((id, index) => ({
    id,
    model: MODEL,
    systemPrompt: "Answer briefly.",
    prompt: `Question ${index + 1}: ${id}?`,
  }));
}

describe("Relay with Anthropic, end to end through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("monitors each status and returns mixed results in request order, normalised, with raw kept", async () => {
    const { emulator, clock } = harness;
    const client = harness.client();
    emulator.setFate("refused", "fail");
    emulator.setFate("broken", "error");
    emulator.setFate("too-slow", "expire");
    const requests: BatchRequest[] = [
      ...requestsFor(["first", "refused", "too-slow", "broken"]),
      { id: "short", model: MODEL, prompt: "Tell me everything about the sea.", maxTokens: 2 },
    ];

    const job = await client.submitBatch({
      requests,
      jobId: "mixed",
      provider: "anthropic",
      description: "mixed fates",
    });
    // Anthropic has no validating stage: a new batch is in progress at once.
    expect(job).toMatchObject({
      jobId: "mixed",
      status: "in_progress",
      providerStatus: "in_progress",
      nRequests: 5,
    });
    expect(job.providerBatchIds).toEqual([emulator.providers.anthropic.lastCreated?.id]);

    clock.advance(60_000);
    // Every other request has finished, but one never does: the batch runs until it expires.
    expect(await client.monitorBatch("mixed")).toMatchObject({
      status: "in_progress",
      providerStatus: "in_progress",
      completedRequests: 0,
      failedRequests: 0,
    });

    clock.advance(DAY_MS);
    const done = await client.monitorBatch("mixed");
    // Ended, not cancelled, and not every request expired: completed, with each result saying what happened.
    expect(done).toMatchObject({
      status: "completed",
      providerStatus: "ended",
      completedRequests: 2,
      failedRequests: 2,
    });

    const results = await client.retrieveBatchResults("mixed");
    expect(results.map((result) => result.id)).toEqual(["first", "refused", "too-slow", "broken", "short"]);
    const [first, refused, tooSlow, broken, short] = results;
    expect(first).toMatchObject({ status: "succeeded", finishReason: "stop" });
    expect(first?.text).toContain("Question 1: first?");
    expect(first?.usage).toEqual({
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
      totalTokens: (first?.usage?.inputTokens ?? 0) + (first?.usage?.outputTokens ?? 0),
      cachedInputTokens: 0,
    });
    expect(first?.raw).toMatchObject({
      custom_id: "first",
      result: { type: "succeeded", message: { type: "message" } },
    });
    expect(refused).toMatchObject({ status: "failed", error: { code: "invalid_request_error" } });
    expect(refused?.raw).toMatchObject({ custom_id: "refused", result: { type: "errored" } });
    expect(tooSlow).toMatchObject({
      status: "expired",
      raw: { custom_id: "too-slow", result: { type: "expired" } },
    });
    expect(broken).toMatchObject({ status: "failed", error: { code: "api_error" } });
    expect(short).toMatchObject({ status: "succeeded", finishReason: "length", usage: { outputTokens: 2 } });

    // After the fetch, the job's counts cover every request.
    expect(await client.getJob("mixed")).toMatchObject({
      status: "completed",
      completed_requests: 2,
      failed_requests: 3,
    });
    expect(await client.getResults("mixed")).toEqual(results);
  });

  it("reports a batch whose every request expired as expired", async () => {
    const { emulator, clock } = harness;
    const client = harness.client();
    for (const id of ["late-1", "late-2"]) emulator.setFate(id, "expire");
    await client.submitBatch({
      requests: requestsFor(["late-1", "late-2"]),
      jobId: "late",
      provider: "anthropic",
    });
    clock.advance(DAY_MS + 1);
    expect(await client.monitorBatch("late")).toMatchObject({ status: "expired", providerStatus: "ended" });
    const results = await client.retrieveBatchResults("late");
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ["late-1", "expired"],
      ["late-2", "expired"],
    ]);
  });

  it("cancels midway: cancelling, then cancelled, keeping what finished before the cancel", async () => {
    const { emulator, clock } = harness;
    const client = harness.client();
    await client.submitBatch({
      requests: requestsFor(["one", "two", "three"]),
      jobId: "stop-me",
      provider: "anthropic",
    });
    clock.advance(emulator.timing.validatingMs + emulator.timing.inProgressMs / 3 + 1);
    expect((await client.monitorBatch("stop-me")).status).toBe("in_progress");

    expect(await client.cancelBatch("stop-me")).toBe(true);
    expect(await client.monitorBatch("stop-me")).toMatchObject({
      status: "cancelling",
      providerStatus: "canceling",
    });

    clock.advance(emulator.timing.cancellingMs);
    expect(await client.monitorBatch("stop-me")).toMatchObject({
      status: "cancelled",
      providerStatus: "ended",
    });
    const results = await client.retrieveBatchResults("stop-me");
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ["one", "succeeded"],
      ["two", "cancelled"],
      ["three", "cancelled"],
    ]);
    expect(results[1]).toMatchObject({
      error: { code: "batch_cancelled" },
      raw: { result: { type: "canceled" } },
    });
  });

  it("sends max_tokens by default and the system prompt as the top-level system parameter", async () => {
    const client = harness.client();
    const requests: BatchRequest[] = [
      { id: "plain", model: MODEL, systemPrompt: "You are terse.", prompt: "Hi" },
      {
        id: "conversation",
        model: MODEL,
        systemPrompt: "You are terse.",
        messages: [
          { role: "system", content: "Answer in French." },
          { role: "user", content: "Bonjour" },
          { role: "assistant", content: "Salut" },
        ],
        prompt: "Ça va ?",
        maxTokens: 5000,
        providerArgs: { temperature: 0.2, thinking_budget_tokens: 2048 },
      },
    ];
    await client.submitBatch({ requests, jobId: "encoding", provider: "anthropic" });
    expect(harness.emulator.providers.anthropic.lastCreated?.requests).toEqual([
      {
        custom_id: "plain",
        params: {
          model: MODEL,
          max_tokens: DEFAULT_MAX_TOKENS,
          system: "You are terse.",
          messages: [{ role: "user", content: "Hi" }],
        },
      },
      {
        custom_id: "conversation",
        params: {
          model: MODEL,
          max_tokens: 5000,
          system: "You are terse.\n\nAnswer in French.",
          messages: [
            { role: "user", content: "Bonjour" },
            { role: "assistant", content: "Salut" },
            { role: "user", content: "Ça va ?" },
          ],
          thinking: { type: "enabled", budget_tokens: 2048 },
          temperature: 0.2,
        },
      },
    ]);
    expect(DEFAULT_MAX_TOKENS).toBe(4096);
  });

  it("rejects what Anthropic would refuse before anything is sent", async () => {
    const client = harness.client();
    const refusals: { request: BatchRequest; code: string }[] = [
      { request: { id: "has space", model: MODEL, prompt: "x" }, code: "invalid_request_id" },
      { request: { id: "x".repeat(65), model: MODEL, prompt: "x" }, code: "invalid_request_id" },
      { request: { id: "dotted.id", model: MODEL, prompt: "x" }, code: "invalid_request_id" },
      {
        request: {
          id: "tiny-budget",
          model: MODEL,
          prompt: "x",
          providerArgs: { thinking_budget_tokens: 512 },
        },
        code: "invalid_input",
      },
      {
        request: {
          id: "budget-over-max",
          model: MODEL,
          prompt: "x",
          maxTokens: 2000,
          providerArgs: { thinking_budget_tokens: 2048 },
        },
        code: "invalid_input",
      },
    ];
    for (const [index, { request, code }] of refusals.entries()) {
      const requests = [{ id: "fine", model: MODEL, prompt: "ok" }, request];
      const error = await client
        .submitBatch({ requests, jobId: `refused-${index}`, provider: "anthropic" })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(code);
      if (code === "invalid_request_id")
        expect((error as Error).message).toContain("a digit, an underscore (_) or a hyphen (-)");
    }
    expect(harness.emulator.batchCount("anthropic")).toBe(0);
    expect(harness.emulator.requestLog).toEqual([]);
    expect(await client.listJobs()).toEqual([]);
  });

  it("names ANTHROPIC_API_KEY when no key is configured", async () => {
    const client = new RelayClient({ directory: harness.directory, env: {} });
    const error = await client
      .submitBatch({ requests: requestsFor(["a"]), jobId: "no-key", provider: "anthropic" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingApiKeyError);
    expect((error as MissingApiKeyError).envVar).toBe("ANTHROPIC_API_KEY");
    expect((error as Error).message).toContain("ANTHROPIC_API_KEY");
    expect(harness.emulator.batchCount("anthropic")).toBe(0);
  });

  it("reads results completely when the connection drops midway through the results", async () => {
    const { emulator, clock } = harness;
    const client = harness.client();
    const ids = Array.from({ length: 6 }, (_, index) => `item-${index + 1}`);
    await client.submitBatch({ requests: requestsFor(ids), jobId: "cut", provider: "anthropic" });
    clock.advance(60_000);
    emulator.faults.add({ method: "GET", path: /\/results$/, action: { kind: "cut", afterBytes: 900 } });

    const results = await client.retrieveBatchResults("cut");
    expect(results.map((result) => result.id)).toEqual(ids);
    expect(results.every((result) => result.status === "succeeded")).toBe(true);
    const downloads = emulator.requestLog.filter((entry) => entry.path.endsWith("/results"));
    expect(downloads.length).toBe(2);
  });
});
