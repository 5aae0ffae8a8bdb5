import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCallBody, addCallBytes, heldAfter, planAddCalls } from "../src/providers/xai/add.js";
import { batchName, toProviderBatch } from "../src/providers/xai/batch.js";
import { parseXaiRecord } from "../src/providers/xai/decode.js";
import { CHAT_COMPLETIONS, checkXaiEndpoint, encodeXaiLine, RESPONSES } from "../src/providers/xai/encode.js";
import { xaiEntry } from "../src/providers/xai/entry.js";
import { normaliseXaiStatus, xaiBatchState } from "../src/providers/xai/status.js";
import type { BatchRequest } from "../src/types.js";

const NOW = Date.parse("2025-11-11T12:00:00Z");

/** A Batch as the official SDK's tests show it: no status, counts in `state`, unset times null. */
function batch(state: Partial<Record<string, unknown>> = {}, fields: Record<string, unknown> = {}) {
  return {
    batch_id: "batch_1f0c2a9e-2b7d-4c55-9e1a-6d3f0b8c7a21",
    name: "relay/job/shard-0/abc/attempt-0",
    create_time: "2025-11-11T11:00:00Z",
    expire_time: "2025-11-12T11:00:00Z",
    create_api_key_id: "key_1",
    cancel_time: null,
    cancel_by_xai_message: null,
    state: { num_requests: 0, num_pending: 0, num_success: 0, num_error: 0, num_cancelled: 0, ...state },
    ...fields,
  };
}

describe("xAI request encoding", () => {
  const request: BatchRequest = {
    id: "req-1",
    model: "grok-4.3",
    systemPrompt: "Be brief.",
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." },
    ],
    prompt: "What is 2+2?",
    maxTokens: 50,
    providerArgs: { temperature: 0.2, max_output_tokens: 60 },
  };

  it("sends the Responses API by default, as the official SDK does, with providerArgs last", () => {
    expect(JSON.parse(encodeXaiLine(request, RESPONSES))).toEqual({
      batch_request_id: "req-1",
      batch_request: {
        responses: {
          model: "grok-4.3",
          input: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "Hi" },
            { role: "assistant", content: "Hello." },
            { role: "user", content: "What is 2+2?" },
          ],
          max_output_tokens: 60,
          temperature: 0.2,
        },
      },
    });
  });

  it("sends chat completions under chat_get_completion when asked, with max_completion_tokens", () => {
    const line = JSON.parse(
      encodeXaiLine({ id: "a", model: "grok-4.3", prompt: "Hi", maxTokens: 7 }, CHAT_COMPLETIONS),
    );
    expect(line).toEqual({
      batch_request_id: "a",
      batch_request: {
        chat_get_completion: {
          model: "grok-4.3",
          messages: [{ role: "user", content: "Hi" }],
          max_completion_tokens: 7,
        },
      },
    });
  });

  it("refuses other endpoints with a typed error", () => {
    expect(checkXaiEndpoint(null)).toBe(RESPONSES);
    expect(() => checkXaiEndpoint("/v1/embeddings")).toThrow(/\/v1\/responses/);
  });

  it("names each batch after its job, shard, submission and attempt", () => {
    expect(batchName({ jobId: "my.job-1", shardIndex: 3, submissionId: "f00d", attempt: 2 })).toBe(
      "relay/my.job-1/shard-3/f00d/attempt-2",
    );
  });

  it("keeps one request within one add call", () => {
    expect(xaiEntry.limits.maxBytesPerRequest).toBeLessThan(25_000_000);
    expect(xaiEntry.limits.customIdPattern.test("bad id")).toBe(false);
  });
});

describe("xAI batch status, derived as the SDK's wait() does", () => {
  const cases: [string, unknown, number, string][] = [
    ["created, nothing added", batch(), NOW, "empty"],
    ["requests pending", batch({ num_requests: 2, num_pending: 1, num_success: 1 }), NOW, "processing"],
    ["nothing pending", batch({ num_requests: 2, num_success: 1, num_error: 1 }), NOW, "done"],
    [
      "cancelled, still stopping",
      batch({ num_requests: 2, num_pending: 1 }, { cancel_time: "2025-11-11T11:30:00Z" }),
      NOW,
      "cancelling",
    ],
    [
      "cancelled, settled (even when all succeeded)",
      batch({ num_requests: 1, num_success: 1 }, { cancel_time: "2025-11-11T11:30:00Z" }),
      NOW,
      "cancelled",
    ],
    ["cancelled by xAI", batch({}, { cancel_by_xai_message: "Batch cancelled by xAI" }), NOW, "cancelled"],
    [
      "pending past expire_time",
      batch({ num_requests: 3, num_pending: 1, num_success: 2 }),
      NOW + 86_400_000,
      "expired",
    ],
    ["empty past expire_time", batch(), NOW + 86_400_000, "expired"],
    [
      "counts as strings (int64)",
      batch({ num_requests: "2", num_pending: "0", num_success: "2" }),
      NOW,
      "done",
    ],
    ["no state at all", { ...batch(), state: undefined }, NOW, "unknown"],
  ];
  it.each(cases)("%s", (_name, object, now, expected) => {
    expect(xaiBatchState(object, now)).toBe(expected);
  });

  it("normalises each derived state, and anything unknown as still running", () => {
    expect(
      ["empty", "processing", "cancelling", "cancelled", "expired", "done", "unknown", "whatever"].map(
        normaliseXaiStatus,
      ),
    ).toEqual([
      "pending",
      "in_progress",
      "cancelling",
      "cancelled",
      "expired",
      "completed",
      "in_progress",
      "in_progress",
    ]);
  });

  it("counts failures as errored plus cancelled, and reports a cancel by xAI as the batch's error", () => {
    const seen = toProviderBatch(
      batch(
        { num_requests: 5, num_success: 2, num_error: 1, num_cancelled: 2 },
        { cancel_by_xai_message: "Batch cancelled by xAI" },
      ),
      NOW,
    );
    expect(seen).toMatchObject({
      status: "cancelled",
      providerStatus: "cancelled",
      total: 5,
      completed: 2,
      failed: 3,
      error: { code: "cancelled_by_xai", message: "Batch cancelled by xAI" },
      createdAt: Date.parse("2025-11-11T11:00:00Z"),
    });
  });
});

describe("xAI result records", () => {
  const completion = {
    id: "c0ffee00-0000-4000-8000-000000000001",
    object: "chat.completion",
    created: 1_762_801_725,
    model: "grok-4.3",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "It is 303.", refusal: null },
        finish_reason: "stop",
      },
    ],
    usage: {
      prompt_tokens: 32,
      completion_tokens: 9,
      total_tokens: 135,
      prompt_tokens_details: { text_tokens: 32, audio_tokens: 0, image_tokens: 0, cached_tokens: 6 },
      completion_tokens_details: { reasoning_tokens: 94, audio_tokens: 0 },
    },
    service_tier: "default",
  };

  it("reads a success: text, finish reason, and usage with reasoning tokens counted as output", () => {
    const raw = { batch_request_id: "r1", batch_result: { response: { chat_get_completion: completion } } };
    expect(parseXaiRecord(raw)).toEqual({
      customId: "r1",
      result: {
        status: "succeeded",
        text: "It is 303.",
        finishReason: "stop",
        model: "grok-4.3",
        usage: {
          inputTokens: 32,
          outputTokens: 103,
          totalTokens: 135,
          cachedInputTokens: 6,
          reasoningTokens: 94,
        },
        raw,
      },
    });
  });

  it("reads a success that carries an OK status beside it, and maps end_turn and length", () => {
    const endTurn = { ...completion, choices: [{ ...completion.choices[0], finish_reason: "end_turn" }] };
    const raw = {
      batch_request_id: "r2",
      batch_result: { response: { chat_get_completion: endTurn }, error: { code: 0, message: "" } },
    };
    expect(parseXaiRecord(raw)?.result).toMatchObject({ status: "succeeded", finishReason: "stop" });
    const cut = { ...completion, choices: [{ ...completion.choices[0], finish_reason: "length" }] };
    const record = { batch_request_id: "r3", batch_result: { response: { chat_get_completion: cut } } };
    expect(parseXaiRecord(record)?.result.finishReason).toBe("length");
  });

  it("reads each error shape: a string, a google.rpc.Status, a top-level error_message", () => {
    const asString = {
      batch_request_id: "a",
      batch_result: { error: "Model is not supported for batch processing" },
    };
    const asStatus = {
      batch_request_id: "b",
      batch_result: { error: { code: 3, message: "bad max_tokens" } },
    };
    const topLevel = { batch_request_id: "c", batch_result: null, error_message: "Upstream failure" };
    expect([asString, asStatus, topLevel].map((raw) => parseXaiRecord(raw)?.result)).toEqual([
      { status: "failed", error: { message: "Model is not supported for batch processing" }, raw: asString },
      { status: "failed", error: { code: "invalid_argument", message: "bad max_tokens" }, raw: asStatus },
      { status: "failed", error: { message: "Upstream failure" }, raw: topLevel },
    ]);
  });

  it("reads a cancelled or expired request from the status code, by number or by name", () => {
    const cancelled = { batch_request_id: "a", batch_result: { error: { code: 1, message: "cancelled" } } };
    const expired = {
      batch_request_id: "b",
      batch_result: { error: { code: "DEADLINE_EXCEEDED", message: "" } },
    };
    expect(parseXaiRecord(cancelled)?.result).toMatchObject({
      status: "cancelled",
      error: { code: "cancelled" },
    });
    expect(parseXaiRecord(expired)?.result).toMatchObject({
      status: "expired",
      error: { code: "deadline_exceeded", message: "the request ended with deadline_exceeded" },
    });
  });

  it("fails what it cannot read, keeping the record, and skips records without an ID", () => {
    const unknown = { batch_request_id: "u", batch_result: { response: "unknown" } };
    const image = { batch_request_id: "i", batch_result: { response: { image_generation: {} } } };
    expect(parseXaiRecord(unknown)?.result).toMatchObject({
      status: "failed",
      error: { code: "unknown_result" },
    });
    expect(parseXaiRecord(image)?.result.error?.message).toContain("image_generation");
    expect(parseXaiRecord({ batch_result: {} })).toBeNull();
    expect(parseXaiRecord("not a record")).toBeNull();
  });
});

describe("xAI add calls, planned and streamed from the shard file", () => {
  let directory: string;
  let shard: string;
  const ids = Array.from({ length: 7 }, (_, index) => `req-${index}`);
  const lines = ids.map((id, index) =>
    encodeXaiLine({ id, model: "grok-4.3", prompt: `prompt ${"é".repeat(index * 3)}` }, RESPONSES),
  );
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "relay-xai-"));
    shard = join(directory, "shard.jsonl");
    await writeFile(shard, lines.map((line) => `${line}\n`).join(""));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function bodies(plan: Awaited<ReturnType<typeof planAddCalls>>) {
    return Promise.all(
      plan.calls.map(async (call) => {
        const body = await text(addCallBody(shard, call)());
        expect(Buffer.byteLength(body)).toBe(addCallBytes(call));
        expect(addCallBytes(call)).toBeLessThanOrEqual(400);
        return JSON.parse(body) as { batch_requests: { batch_request_id: string }[] };
      }),
    );
  }

  it("splits the shard into calls within the size limit, each body the exact lines as a JSON array", async () => {
    const plan = await planAddCalls(shard, { from: 0, present: null, maxBodyBytes: 400 });
    expect(plan.lines).toBe(7);
    expect(plan.calls.length).toBeGreaterThan(2);
    const sent = (await bodies(plan)).flatMap((body) => body.batch_requests);
    expect(sent).toEqual(lines.map((line) => JSON.parse(line)));
    expect(plan.calls.map((_, index) => heldAfter(plan, index)).at(-1)).toBe(7);
    expect(heldAfter(plan, -1)).toBe(0);
    // The shard file is read, not changed.
    expect(await readFile(shard, "utf8")).toBe(lines.map((line) => `${line}\n`).join(""));
  });

  it("resumes after the known count and leaves out what the batch already holds", async () => {
    const plan = await planAddCalls(shard, {
      from: 2,
      present: new Set(["req-2", "req-3", "req-5"]),
      maxBodyBytes: 25_000_000,
    });
    const sent = (await bodies(plan)).map((body) => body.batch_requests.map((item) => item.batch_request_id));
    expect(sent).toEqual([["req-4"], ["req-6"]]);
    // Before the first call the batch is known to hold the first four; after it, the first six.
    expect([heldAfter(plan, -1), heldAfter(plan, 0), heldAfter(plan, 1)]).toEqual([4, 6, 7]);
  });

  it("plans nothing when the batch holds every request", async () => {
    const plan = await planAddCalls(shard, { from: 0, present: new Set(ids), maxBodyBytes: 25_000_000 });
    expect(plan.calls).toEqual([]);
    expect(heldAfter(plan, -1)).toBe(7);
  });
});
