import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { countsFromProgress } from "../src/jobs/progress.js";
import { retryAfterMs } from "../src/providers/shared/http.js";
import { errorMessage } from "../src/providers/shared/rest-client.js";
import { toProviderBatch } from "../src/providers/together/batch.js";
import { encodeTogetherLine } from "../src/providers/together/encode.js";
import { togetherEntry } from "../src/providers/together/entry.js";
import { uploadFileName } from "../src/providers/together/file-name.js";
import { normaliseTogetherStatus } from "../src/providers/together/status.js";

const TOGETHER_LIMITS = togetherEntry.limits;

describe("Together adapter pieces", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "relay-together-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("registers under TOGETHER_API_KEY and TOGETHER_BASE_URL", () => {
    expect(togetherEntry).toMatchObject({
      name: "together",
      apiKeyEnv: "TOGETHER_API_KEY",
      baseURLEnv: "TOGETHER_BASE_URL",
    });
  });

  it.each([
    ["VALIDATING", "pending"],
    ["IN_PROGRESS", "in_progress"],
    ["COMPLETED", "completed"],
    ["FAILED", "failed"],
    ["EXPIRED", "expired"],
    ["CANCELLED", "cancelled"],
    ["completed", "completed"],
    ["In_Progress", "in_progress"],
    ["QUEUED_FOR_SOMETHING_NEW", "in_progress"],
  ])("normalises status %s to %s", (raw, expected) => {
    expect(normaliseTogetherStatus(raw)).toBe(expected);
    expect(togetherEntry.normaliseStatus(raw)).toBe(expected);
  });

  it("encodes {custom_id, body} with the system prompt, max_tokens and provider args last", () => {
    const line = encodeTogetherLine({
      id: "q-1",
      model: "m",
      systemPrompt: "sys",
      messages: [
        { role: "user", content: "earlier" },
        { role: "assistant", content: "reply" },
      ],
      prompt: "now",
      maxTokens: 12,
      providerArgs: { temperature: 0, max_tokens: 99 },
    });
    expect(JSON.parse(line)).toEqual({
      custom_id: "q-1",
      body: {
        model: "m",
        messages: [
          { role: "system", content: "sys" },
          { role: "user", content: "earlier" },
          { role: "assistant", content: "reply" },
          { role: "user", content: "now" },
        ],
        max_tokens: 99,
        temperature: 0,
      },
    });
  });

  it("accepts custom_ids of 1 to 64 characters without whitespace or control characters", () => {
    const pattern = TOGETHER_LIMITS.customIdPattern;
    expect(pattern.test("a".repeat(64))).toBe(true);
    expect(pattern.test("req-1_ü.x")).toBe(true);
    expect(pattern.test("a".repeat(65))).toBe(false);
    expect(pattern.test("")).toBe(false);
    expect(pattern.test("has space")).toBe(false);
    expect(pattern.test("new\nline")).toBe(false);
    expect(TOGETHER_LIMITS).toMatchObject({ maxRequestsPerBatch: 50_000, oneModelPerBatch: true });
    expect(TOGETHER_LIMITS.maxBytesPerBatch).toBeLessThanOrEqual(100 * 1024 * 1024);
  });

  it("names uploads after their job, shard and submission", () => {
    expect(uploadFileName({ jobId: "my.job_1", shardIndex: 3, submissionId: "ab12", attempt: 0 })).toBe(
      "relay_my.job_1_shard3_ab12.jsonl",
    );
  });

  it("derives request counts from progress and the error file's failures", () => {
    expect(countsFromProgress("pending", 0, 10, 0)).toEqual({ completed: 0, failed: 0 });
    expect(countsFromProgress("in_progress", 0.4, 10, 0)).toEqual({ completed: 4, failed: 0 });
    expect(countsFromProgress("completed", 1, 10, 3)).toEqual({ completed: 7, failed: 3 });
    // Ended early: unprocessed requests count as unsuccessful, as they do once results are read.
    expect(countsFromProgress("expired", 0.6, 10, 1)).toEqual({ completed: 5, failed: 5 });
    expect(countsFromProgress("cancelled", 0.5, 4, 0)).toEqual({ completed: 2, failed: 2 });
    expect(countsFromProgress("failed", 0, 4, 0)).toEqual({ completed: 0, failed: 4 });
    // A completed batch is whole whatever its last progress figure said.
    expect(countsFromProgress("completed", 0.9, 10, 0)).toEqual({ completed: 10, failed: 0 });
  });

  it("reads a BatchJob tolerantly and keeps it as raw", () => {
    const job = {
      id: "0b4c1f7e-1111-4222-8333-444455556666",
      status: "FAILED",
      error: "Invalid model specified",
      input_file_id: "file-in",
      created_at: "2026-01-01T00:00:00Z",
    };
    const batch = toProviderBatch(job, 2);
    expect(batch).toMatchObject({
      id: job.id,
      status: "failed",
      providerStatus: "FAILED",
      inputFileId: "file-in",
      outputFileId: null,
      errorFileId: null,
      error: { message: "Invalid model specified" },
      createdAt: Date.parse("2026-01-01T00:00:00Z"),
      raw: job,
    });
    const queueFull = toProviderBatch(
      { ...job, error: "Enqueued token limit reached for model m; try again later" },
      2,
    );
    expect(queueFull.error?.code).toBe("token_limit_exceeded");
    expect(toProviderBatch({ id: "x", status: "IN_PROGRESS", progress: 25 })).toMatchObject({
      progress: 0.25,
      failed: 0,
    });
    expect(toProviderBatch({ id: "x" })).toMatchObject({
      status: "in_progress",
      providerStatus: "UNKNOWN",
      error: null,
      createdAt: null,
    });
  });

  it("reads both error body shapes", () => {
    expect(errorMessage(400, JSON.stringify({ error: "batch not cancellable" }))).toBe(
      "batch not cancellable",
    );
    expect(
      errorMessage(401, JSON.stringify({ error: { message: "bad key", type: "auth", code: null } })),
    ).toBe("bad key");
    expect(errorMessage(502, "<html>Bad gateway</html>")).toBe("<html>Bad gateway</html>");
    expect(errorMessage(503, "")).toBe("HTTP 503");
  });

  it("parses Together's error lines and OpenAI-format output lines", () => {
    expect(
      togetherEntry.parseRecord({
        custom_id: "req-1",
        error: { message: "Invalid model specified", code: "invalid_model" },
      }),
    ).toEqual({
      customId: "req-1",
      result: {
        status: "failed",
        error: { code: "invalid_model", message: "Invalid model specified" },
        raw: { custom_id: "req-1", error: { message: "Invalid model specified", code: "invalid_model" } },
      },
    });
  });

  it("honours retry-after-ms, retry-after seconds and retry-after dates", () => {
    const response = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(retryAfterMs(response({ "retry-after-ms": "250" }))).toBe(250);
    expect(retryAfterMs(response({ "retry-after": "2" }))).toBe(2_000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(response({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now)).toBe(5_000);
    expect(retryAfterMs(response({}))).toBeUndefined();
  });
});

describe("TogetherAdapter against the emulator", () => {
  let emulator: Emulator;
  let directory: string;
  beforeAll(async () => {
    emulator = await Emulator.start({ clock: new ManualClock() });
    directory = await mkdtemp(join(tmpdir(), "relay-together-"));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(directory, { recursive: true, force: true });
  });

  const adapter = () =>
    togetherEntry.create({
      apiKey: "tg-key",
      baseURL: emulator.baseURL("together"),
      endpoint: undefined,
      env: {},
      timeoutMs: 10_000,
      maxRetries: 0,
    });

  it("finds the batch of the current attempt, never one of an earlier attempt on the same file", async () => {
    const together = await adapter();
    const shard = join(directory, "shard.jsonl");
    await writeFile(shard, `${encodeTogetherLine({ id: "a", model: "m", prompt: "hi" })}\n`);
    const tags = { jobId: "job", shardIndex: 0, submissionId: "s1", attempt: 0 };
    const fileId = await together.uploadShard(shard, tags);
    const input = { inputFileId: fileId, shardPath: shard, endpoint: null, tags };
    const first = await together.createBatch(input);
    const lookup = {
      tags,
      since: 0,
      inputFileId: fileId,
      nRequests: 1,
      previousBatchIds: [] as string[],
      knownBatchIds: async () => new Set<string>(),
    };
    expect((await together.findBatch(lookup))?.id).toBe(first.id);
    const second = await together.createBatch({ ...input, tags: { ...tags, attempt: 1 } });
    expect((await together.findBatch({ ...lookup, previousBatchIds: [first.id] }))?.id).toBe(second.id);
    expect(await together.findBatch({ ...lookup, previousBatchIds: [first.id, second.id] })).toBeNull();
    expect(await together.findBatch({ ...lookup, inputFileId: null })).toBeNull();
  });

  it("reports a refused key as a ProviderError with the HTTP status", async () => {
    emulator.faults.add({
      method: "GET",
      path: /\/together\/v1\/batches\//,
      action: { kind: "status", status: 401, body: { error: "Invalid API key" } },
    });
    await expect((await adapter()).getBatch("00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({
      name: "ProviderError",
      httpStatus: 401,
      message: expect.stringContaining("Invalid API key"),
    });
  });
});
