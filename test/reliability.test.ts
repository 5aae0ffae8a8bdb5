import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readRequestsFile, ValidationError } from "../src/index.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

describe("more faults and bad input", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("a status answer slower than the timeout is abandoned and asked again", async () => {
    const client = harness.client({
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: harness.emulator.baseURL("openai"),
          timeoutMs: 300,
          maxRetries: 2,
        },
      },
    });
    await client.submitBatch({ requests: exampleRequests(2), jobId: "slow", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    harness.emulator.faults.add({
      method: "GET",
      path: /\/batches\/batch_/,
      action: { kind: "delay", ms: 1_500 },
      times: 1,
    });
    expect((await client.monitorBatch("slow")).status).toBe("completed");
    const statusCalls = harness.emulator.requestLog.filter((entry) => /\/batches\/batch_/.test(entry.path));
    expect(statusCalls.length).toBeGreaterThanOrEqual(2);
    expect(statusCalls.at(-1)?.status).toBe(200);
  });

  it("a batch stuck in finalizing stays in progress, keeps its results safe, and completes when the provider does", async () => {
    const client = harness.client();
    harness.emulator.timing.finalizingMs = 48 * 60 * 60_000;
    await client.submitBatch({ requests: exampleRequests(3), jobId: "stuck", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    for (let poll = 0; poll < 3; poll += 1) {
      harness.clock.advance(60 * 60_000);
      expect(await client.monitorBatch("stuck")).toMatchObject({
        status: "in_progress",
        providerStatus: "finalizing",
      });
    }
    await expect(client.retrieveBatchResults("stuck")).rejects.toMatchObject({ code: "job_not_finished" });
    harness.emulator.timing.finalizingMs = 500;
    expect((await client.monitorBatch("stuck")).status).toBe("completed");
    expect((await client.retrieveBatchResults("stuck")).map((result) => result.status)).toEqual(
      Array(3).fill("succeeded"),
    );
  });

  it("waiting on a batch that does not move polls less and less often", async () => {
    const client = harness.client();
    harness.emulator.timing.finalizingMs = 48 * 60 * 60_000;
    await client.submitBatch({ requests: exampleRequests(2), jobId: "idle", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const seen: string[] = [];
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("enough")), 400);
    await expect(
      client.waitForBatch("idle", {
        pollIntervalMs: 5,
        maxPollIntervalMs: 10_000,
        signal: controller.signal,
        onStatus: (job) => seen.push(job.providerStatus),
      }),
    ).rejects.toThrow("enough");
    // Without backoff a 5 ms interval would poll dozens of times in 400 ms; growing by half each time it is ~12.
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.length).toBeLessThan(20);
    expect(new Set(seen)).toEqual(new Set(["finalizing"]));
  });

  it("an input file with invalid UTF-8 or a malformed line is refused before anything is sent", async () => {
    const client = harness.client();
    const badBytes = join(harness.directory, "..", `utf8-${Date.now()}.jsonl`);
    await writeFile(
      badBytes,
      Buffer.concat([
        Buffer.from('{"id":"a","model":"m","prompt":"ok"}\n{"id":"b","model":"m","prompt":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
    );
    const error = await client
      .submitBatch({ requests: readRequestsFile(badBytes), jobId: "utf8", provider: "openai" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain("line 2: not valid UTF-8");

    const malformed = join(harness.directory, "..", `malformed-${Date.now()}.jsonl`);
    await writeFile(malformed, '{"id":"a","model":"m","prompt":"ok"}\n[1,2]\n');
    await expect(
      client.submitBatch({ requests: readRequestsFile(malformed), jobId: "malformed", provider: "openai" }),
    ).rejects.toThrow("line 2: expected a JSON object");
    expect(await client.listJobs()).toEqual([]);
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it.each([
    ["the upload", /\/files$/],
    ["the batch creation", /\/batches$/],
  ])(
    "a network that stays down during %s fails the call but keeps the job; the next call carries on",
    async (_label, path) => {
      const client = harness.client({
        providers: {
          openai: { apiKey: TEST_KEYS.openai, baseURL: harness.emulator.baseURL("openai"), maxRetries: 1 },
        },
      });
      harness.emulator.faults.add({ method: "POST", path, action: { kind: "reset" }, times: 1_000 });
      const error = await client
        .submitBatch({ requests: exampleRequests(3), jobId: "offline", provider: "openai" })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: "ProviderError" });
      expect(harness.emulator.batchCount("openai")).toBe(0);
      const record = await client.getJob("offline");
      expect(record?.status).toBe("pending");
      expect(["planned", "uploaded"]).toContain(record?.shards[0]?.state);

      harness.emulator.faults.clear();
      expect((await client.monitorBatch("offline")).providerBatchIds[0]).toMatch(/^batch_/);
      expect(harness.emulator.batchCount("openai")).toBe(1);
      harness.clock.advance(ENOUGH_TIME_MS);
      expect((await client.retrieveBatchResults("offline")).map((result) => result.status)).toEqual(
        Array(3).fill("succeeded"),
      );
    },
  );

  it("a prompt with an unpaired surrogate, or a request over the provider's size limit, is refused", async () => {
    const client = harness.client();
    await expect(
      client.submitBatch({
        requests: [{ id: "a", model: "gpt-4o-mini", prompt: "bad \ud800 text" }],
        jobId: "u",
        provider: "openai",
      }),
    ).rejects.toMatchObject({ code: "invalid_text" });
    const huge = "x".repeat(51 * 1024 * 1024);
    await expect(
      client.submitBatch({
        requests: [...exampleRequests(2), { id: "huge", model: "gpt-4o-mini", prompt: huge }],
        jobId: "big",
        provider: "openai",
      }),
    ).rejects.toMatchObject({ code: "request_too_large", message: expect.stringContaining('"huge"') });
    expect(await client.listJobs()).toEqual([]);
    expect(harness.emulator.requestLog).toEqual([]);
  });
});
