/**
 * Inputs that could hang, spin or fill the disk, refusals that must not fail a job for good, and leftovers of a
 * killed process: each refused with a typed error, or carried on, with nothing stored lost.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BatchRequest,
  ProviderError,
  RelayClient,
  readRequestsFile,
  ValidationError,
} from "../src/index.js";
import { providerEntry } from "../src/providers/registry.js";
import type { ProviderName } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

async function refusal(call: () => unknown): Promise<ValidationError> {
  let error: unknown;
  try {
    await call();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe("numeric options are validated, with floors a timer can honour", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it.each([Number.NaN, 0, -5, 1e300, Number.POSITIVE_INFINITY, "30" as unknown as number])(
    "waitForBatch({ pollIntervalMs: %s }) is refused before any call, not polled in a tight loop",
    async (pollIntervalMs) => {
      const client = harness.client();
      await client.submitBatch({ requests: exampleRequests(1), jobId: "w", provider: "openai" });
      const calls = harness.emulator.requestLog.length;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error("still polling")), 300);
      const error = await refusal(() =>
        client.waitForBatch("w", { pollIntervalMs, signal: controller.signal }),
      );
      clearTimeout(timer);
      expect(error.message).toContain("pollIntervalMs");
      expect(harness.emulator.requestLog.length).toBe(calls);
      await refusal(() => client.waitForBatch("w", { maxPollIntervalMs: pollIntervalMs }));
    },
  );

  it.each([
    ["submitConcurrency", { submitConcurrency: Number.NaN }],
    ["submitConcurrency", { submitConcurrency: 0 }],
    ["submitConcurrency", { submitConcurrency: 1.5 }],
    ["requeueDelayMs", { requeueDelayMs: -1 }],
    ["maxRequestsPerJob", { maxRequestsPerJob: 0 }],
    ["maxBytesPerJob", { maxBytesPerJob: Number.NaN }],
    ["lock.waitMs", { lock: { waitMs: Number.NaN } }],
    ["lock.staleMs", { lock: { staleMs: 10 } }],
    ["providers.openai.timeoutMs", { providers: { openai: { timeoutMs: Number.NaN } } }],
    ["providers.openai.timeoutMs", { providers: { openai: { timeoutMs: 0 } } }],
    ["providers.anthropic.maxRetries", { providers: { anthropic: { maxRetries: -1 } } }],
    ["providers.together.maxRequestsPerBatch", { providers: { together: { maxRequestsPerBatch: 0 } } }],
    ["providers.openai.maxBytesPerBatch", { providers: { openai: { maxBytesPerBatch: 1.5 } } }],
    ["providers.openai.enqueuedTokenBudget", { providers: { openai: { enqueuedTokenBudget: Number.NaN } } }],
    ["providers.openai.enqueuedTokenBudget", { providers: { openai: { enqueuedTokenBudget: { "*": -1 } } } }],
  ])("%s is checked when the client is made (%j)", async (name, options) => {
    const error = await refusal(() => new RelayClient({ directory: harness.directory, env: {}, ...options }));
    expect(error.code).toBe("invalid_option");
    expect(error.message).toContain(name);
  });

  it("a valid submitConcurrency submits every shard", async () => {
    const client = harness.client({
      submitConcurrency: 2,
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: harness.emulator.baseURL("openai"),
          maxRequestsPerBatch: 2,
        },
      },
    });
    const job = await client.submitBatch({ requests: exampleRequests(5), jobId: "conc", provider: "openai" });
    expect(job.providerBatchIds.every((id) => typeof id === "string")).toBe(true);
    expect(harness.emulator.batchCount("openai")).toBe(3);
  });

  it.each(["ftp://example.com/v1", "not a url", "", "http//missing-colon"])(
    "a base URL of %j is refused before the job is stored",
    async (baseURL) => {
      const configured = () =>
        new RelayClient({
          directory: harness.directory,
          env: {},
          providers: { openai: { apiKey: "sk-test-key", baseURL } },
        });
      const fromEnv = new RelayClient({
        directory: harness.directory,
        env: { OPENAI_API_KEY: "sk-test-key", OPENAI_BASE_URL: baseURL || " " },
      });
      await refusal(configured);
      const error = await refusal(() =>
        fromEnv.submitBatch({ requests: exampleRequests(1), jobId: "url", provider: "openai" }),
      );
      expect(error.message).toContain("OPENAI_BASE_URL");
      expect(await fromEnv.listJobs()).toEqual([]);
      expect(await readdir(join(harness.directory, ".relay"))).not.toContain("jobs");
    },
  );
});

describe("requests files and request sources that never end", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("a line longer than any provider accepts is refused as soon as it passes the limit, not at its end", async () => {
    const fifo = join(harness.directory, "endless.jsonl");
    await new Promise<void>((resolve, reject) =>
      spawn("mkfifo", [fifo]).once("exit", (code) => (code === 0 ? resolve() : reject(new Error("mkfifo")))),
    );
    // A line that never ends: the writer keeps the pipe open after 60 MB without a newline.
    const writer = createWriteStream(fifo);
    writer.on("error", () => {});
    writer.write('{"id":"a","model":"gpt-4o-mini","prompt":"');
    const block = Buffer.alloc(1024 * 1024, "x");
    for (let written = 0; written < 60; written += 1) writer.write(block);
    const reading = (async () => {
      for await (const _ of readRequestsFile(fifo)) {
        // nothing is expected
      }
    })();
    const outcome = await Promise.race([
      reading.then(
        () => "ended",
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve("still reading"), 20_000)),
    ]);
    writer.destroy();
    expect(outcome).toBeInstanceOf(ValidationError);
    expect(outcome).toMatchObject({ code: "request_too_large", message: expect.stringContaining("line 1") });
  });

  it("reads a long line in one pass and refuses one longer than maxLineBytes", async () => {
    const file = join(harness.directory, "long.jsonl");
    const prompt = "y".repeat(30 * 1024 * 1024);
    await writeFile(
      file,
      `{"id":"a","model":"m","prompt":"ok"}\n${JSON.stringify({ id: "b", model: "m", prompt })}\n`,
    );
    const read: BatchRequest[] = [];
    for await (const request of readRequestsFile(file)) read.push(request);
    expect(read.map((request) => request.prompt?.length)).toEqual([2, prompt.length]);

    const error = await refusal(async () => {
      for await (const _ of readRequestsFile(file, { maxLineBytes: 1024 * 1024 })) {
        // the second line is refused
      }
    });
    expect(error.code).toBe("request_too_large");
    expect(error.message).toContain("line 2");
  });

  it.each([
    ["a directory", (directory: string) => directory],
    ["a missing file", (directory: string) => join(directory, "missing.jsonl")],
  ])("a requests file that is %s is a ValidationError", async (_label, pathOf) => {
    const error = await refusal(async () => {
      for await (const _ of readRequestsFile(pathOf(harness.directory))) {
        // nothing to read
      }
    });
    expect(error.code).toBe("invalid_input_file");
  });

  it("an endless request source stops at maxRequestsPerJob, leaving nothing behind", async () => {
    const client = harness.client({ maxRequestsPerJob: 1_000 });
    let pulled = 0;
    function* endless(): Generator<BatchRequest> {
      for (;;) {
        pulled += 1;
        if (pulled > 5_000) throw new Error("the request source was never stopped");
        yield { id: `r-${pulled}`, model: "gpt-4o-mini", prompt: "again" };
      }
    }
    const error = await refusal(() =>
      client.submitBatch({ requests: endless(), jobId: "endless", provider: "openai" }),
    );
    expect(error.code).toBe("job_too_large");
    expect(error.message).toContain("maxRequestsPerJob");
    expect(pulled).toBe(1_001);
    expect(await client.listJobs()).toEqual([]);
    const internal = join(harness.directory, ".relay");
    const leftovers = (await readdir(internal, { recursive: true })).filter(
      (name) => !name.startsWith("locks"),
    );
    expect(leftovers.filter((name) => !["jobs", "staging"].includes(name))).toEqual([]);
    expect(harness.emulator.requestLog).toEqual([]);

    const bytes = harness.client({ maxBytesPerJob: 50_000 });
    const byBytes = await refusal(() =>
      bytes.submitBatch({ requests: endless(), jobId: "big", provider: "openai" }),
    );
    expect(byBytes).toMatchObject({
      code: "job_too_large",
      message: expect.stringContaining("maxBytesPerJob"),
    });
  });
});

describe("a refused batch creation that created nothing does not fail the job for good", () => {
  let harness: Harness;
  const createPath: Record<"openai" | "anthropic" | "together", RegExp> = {
    openai: /\/batches$/,
    anthropic: /\/messages\/batches$/,
    together: /\/batches$/,
  };
  beforeEach(async () => {
    harness = await startHarness({
      apiKeys: { openai: TEST_KEYS.openai, anthropic: TEST_KEYS.anthropic, together: TEST_KEYS.together },
    });
  });
  afterEach(async () => {
    await harness.close();
  });

  it.each(Object.keys(createPath) as (keyof typeof createPath)[])(
    "%s: a 401 on creation keeps the job; once the key works, recover carries on",
    async (provider) => {
      const client = harness.client();
      const requests = exampleRequests(3, providerEntry(provider).demoModel);
      harness.emulator.faults.add({
        method: "POST",
        path: createPath[provider],
        action: { kind: "status", status: 401 },
      });
      const error = await client
        .submitBatch({ requests, jobId: "denied", provider })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ httpStatus: 401 });
      expect(harness.emulator.batchCount(provider)).toBe(0);
      const kept = await client.getJob("denied");
      expect(kept?.status).toBe("pending");
      expect(["planned", "uploaded"]).toContain(kept?.shards[0]?.state);

      const job = await client.recover("denied");
      expect(job.providerBatchIds[0]).toBeTruthy();
      expect(harness.emulator.batchCount(provider)).toBe(1);
      harness.clock.advance(ENOUGH_TIME_MS);
      expect((await client.retrieveBatchResults("denied")).map((result) => result.status)).toEqual(
        Array(3).fill("succeeded"),
      );
    },
  );

  it.each(["openai", "anthropic", "together"] as ProviderName[])(
    "%s: a wrong key is refused with 401; submitting again with the right key carries on the same job",
    async (provider) => {
      const wrong = harness.client({
        providers: {
          [provider]: { apiKey: "wrong-key-0123456789", baseURL: harness.emulator.baseURL(provider) },
        },
      });
      const requests = exampleRequests(2, providerEntry(provider).demoModel);
      const error = await wrong
        .submitBatch({ requests, jobId: "key", provider })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ httpStatus: 401, message: expect.stringContaining("API key") });
      await expect(wrong.monitorBatch("key")).rejects.toMatchObject({ httpStatus: 401 });
      expect((await wrong.getJob("key"))?.status).toBe("pending");
      expect(harness.emulator.batchCount(provider)).toBe(0);

      const right = harness.client();
      const again = await right.submitBatch({ requests, jobId: "key", provider });
      expect(again.providerBatchIds[0]).toBeTruthy();
      expect(harness.emulator.batchCount(provider)).toBe(1);
    },
  );
});

describe("leftovers of a killed process", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("temporary and spill files of a job are removed under its lock; look-alikes of other jobs are kept", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(2), jobId: "x", provider: "openai" });
    await client.submitBatch({ requests: exampleRequests(2), jobId: "xy", provider: "openai" });
    const leftovers = [
      ".x.json.tmp-4194303-0123abcd",
      "x.json.tmp-4194303-deadbeef",
      ".x_results.json.tmp-4194303-00ff00ff",
      "x_results.json.tmp-12-abcdef01",
    ];
    const others = [".xy.json.tmp-4194303-0123abcd", "xy.json.tmp-4194303-deadbeef", ".x.json.tmp-other"];
    for (const name of [...leftovers, ...others]) await writeFile(join(harness.directory, name), "{");
    const spill = join(harness.directory, ".relay", "jobs", "x", "shard-0000.arrived.jsonl");
    await mkdir(join(spill, ".."), { recursive: true });
    await writeFile(spill, "{}\n");
    await client.monitorBatch("x");
    const names = await readdir(harness.directory);
    for (const name of leftovers) expect(names).not.toContain(name);
    for (const name of others) expect(names).toContain(name);
    expect(await readdir(join(harness.directory, ".relay", "jobs", "x"))).not.toContain(
      "shard-0000.arrived.jsonl",
    );
    expect(await client.listJobs()).toEqual(["x", "xy"]);
    expect(JSON.parse(await readFile(join(harness.directory, "x.json"), "utf8")).job_id).toBe("x");
  });
});
