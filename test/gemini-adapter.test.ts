import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toProviderBatch } from "../src/providers/gemini/batch.js";
import { parseGeminiRecord } from "../src/providers/gemini/decode.js";
import { encodeGeminiLine, geminiRequestBody } from "../src/providers/gemini/encode.js";
import { fitsInline, inlineCreateBody } from "../src/providers/gemini/inline.js";
import { normaliseGeminiState } from "../src/providers/gemini/status.js";
import { displayNameFor, isNamedFor } from "../src/providers/gemini/tags.js";
import { type JsonStreamEvent, streamJsonArrays } from "../src/providers/shared/json-stream.js";
import type { BatchRequest } from "../src/types.js";

const MODEL = "gemini-2.5-flash";

describe("Gemini request encoding", () => {
  it("sends the system prompt as systemInstruction, turns as user/model contents, maxTokens as maxOutputTokens", () => {
    const request: BatchRequest = {
      id: "r1",
      model: MODEL,
      systemPrompt: "Be brief.",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "system", content: "Answer in French." },
      ],
      prompt: "What is 2+2?",
      maxTokens: 50,
    };
    expect(JSON.parse(encodeGeminiLine(request))).toEqual({
      key: "r1",
      request: {
        model: "models/gemini-2.5-flash",
        contents: [
          { role: "user", parts: [{ text: "Hi" }] },
          { role: "model", parts: [{ text: "Hello!" }] },
          { role: "user", parts: [{ text: "What is 2+2?" }] },
        ],
        systemInstruction: { parts: [{ text: "Be brief.\n\nAnswer in French." }] },
        generationConfig: { maxOutputTokens: 50 },
      },
    });
    const bare = geminiRequestBody({ id: "r2", model: "models/gemini-2.0-flash", prompt: "x" });
    expect(bare).toEqual({
      model: "models/gemini-2.0-flash",
      contents: [{ role: "user", parts: [{ text: "x" }] }],
    });
  });

  it("merges providerArgs last: generation settings join maxTokens, other fields replace Relay's in either spelling", () => {
    const merged = geminiRequestBody({
      id: "r",
      model: MODEL,
      prompt: "x",
      systemPrompt: "mine",
      maxTokens: 10,
      providerArgs: {
        generationConfig: { temperature: 0.2, thinkingConfig: { thinkingBudget: 0 } },
        safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }],
      },
    });
    expect(merged.generationConfig).toEqual({
      maxOutputTokens: 10,
      temperature: 0.2,
      thinkingConfig: { thinkingBudget: 0 },
    });
    expect(merged.safetySettings).toHaveLength(1);
    expect(merged.systemInstruction).toEqual({ parts: [{ text: "mine" }] });

    const snake = geminiRequestBody({
      id: "r",
      model: MODEL,
      prompt: "x",
      systemPrompt: "mine",
      maxTokens: 10,
      providerArgs: {
        generation_config: { max_output_tokens: 99 },
        system_instruction: { parts: [{ text: "theirs" }] },
      },
    });
    expect(snake).not.toHaveProperty("generationConfig");
    expect(snake).not.toHaveProperty("systemInstruction");
    expect(snake.generation_config).toEqual({ max_output_tokens: 99 });
    expect(snake.system_instruction).toEqual({ parts: [{ text: "theirs" }] });
  });
});

describe("Gemini states", () => {
  it.each([
    ["BATCH_STATE_PENDING", "pending"],
    ["BATCH_STATE_RUNNING", "in_progress"],
    ["BATCH_STATE_SUCCEEDED", "completed"],
    ["BATCH_STATE_FAILED", "failed"],
    ["BATCH_STATE_CANCELLED", "cancelled"],
    ["BATCH_STATE_EXPIRED", "expired"],
    ["BATCH_STATE_UNSPECIFIED", "in_progress"],
    ["JOB_STATE_PENDING", "pending"],
    ["JOB_STATE_QUEUED", "pending"],
    ["JOB_STATE_RUNNING", "in_progress"],
    ["JOB_STATE_SUCCEEDED", "completed"],
    ["JOB_STATE_PARTIALLY_SUCCEEDED", "completed"],
    ["JOB_STATE_FAILED", "failed"],
    ["JOB_STATE_CANCELLING", "cancelling"],
    ["JOB_STATE_CANCELLED", "cancelled"],
    ["JOB_STATE_EXPIRED", "expired"],
    ["JOB_STATE_PAUSED", "in_progress"],
    ["job_state_succeeded", "completed"],
    ["SOMETHING_NEW", "in_progress"],
  ])("%s is %s", (state, expected) => {
    expect(normaliseGeminiState(state)).toBe(expected);
  });

  it("reads a batch Operation: int64 counts as strings, zero counts left out, the responses file from either place", () => {
    const operation = {
      name: "batches/abc",
      metadata: {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        state: "BATCH_STATE_SUCCEEDED",
        createTime: "2026-12-01T10:00:00.123456789Z",
        inputConfig: { fileName: "files/in" },
        batchStats: { requestCount: "5", successfulRequestCount: "4" },
      },
      done: true,
      response: { responsesFile: "files/batch-abc" },
    };
    expect(toProviderBatch(operation)).toMatchObject({
      id: "batches/abc",
      status: "completed",
      providerStatus: "BATCH_STATE_SUCCEEDED",
      total: 5,
      completed: 4,
      failed: 0,
      inputFileId: "files/in",
      outputFileId: "files/batch-abc",
      errorFileId: null,
      error: null,
      createdAt: Date.parse("2026-12-01T10:00:00.123Z"),
    });
    const failed = toProviderBatch({
      name: "batches/f",
      metadata: { state: "BATCH_STATE_FAILED", output: { responsesFile: "files/x" } },
      error: { code: 3, message: "Line 2 is not valid JSON." },
    });
    expect(failed).toMatchObject({
      status: "failed",
      outputFileId: "files/x",
      error: { code: "INVALID_ARGUMENT", message: "Line 2 is not valid JSON." },
    });
  });
});

describe("Gemini result records", () => {
  const response = {
    candidates: [
      {
        content: {
          role: "model",
          parts: [{ text: "thinking…", thought: true }, { text: "Four." }, { text: " Done." }],
        },
        finishReason: "STOP",
      },
    ],
    usageMetadata: {
      promptTokenCount: 12,
      cachedContentTokenCount: 8,
      candidatesTokenCount: 3,
      thoughtsTokenCount: 20,
      totalTokenCount: 35,
    },
    modelVersion: MODEL,
  };

  it("a responses-file line: text without thoughts, usage with cached and thinking tokens, raw unchanged", () => {
    const raw = { response, key: "req-1" };
    expect(parseGeminiRecord(raw)).toEqual({
      customId: "req-1",
      result: {
        status: "succeeded",
        text: "Four. Done.",
        finishReason: "stop",
        usage: {
          inputTokens: 12,
          outputTokens: 23,
          totalTokens: 35,
          cachedInputTokens: 8,
          reasoningTokens: 20,
        },
        raw,
      },
    });
  });

  it("an inlined response is keyed by its metadata", () => {
    const raw = { metadata: { key: "req-2", extra: "x" }, response };
    expect(parseGeminiRecord(raw)?.customId).toBe("req-2");
    expect(parseGeminiRecord(raw)?.result.raw).toBe(raw);
  });

  it.each([
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["MALFORMED_FUNCTION_CALL", "other"],
    ["OTHER", "other"],
  ])("finish reason %s is %s", (finishReason, expected) => {
    const raw = {
      key: "k",
      response: { candidates: [{ content: { parts: [{ text: "t" }] }, finishReason }] },
    };
    expect(parseGeminiRecord(raw)?.result.finishReason).toBe(expected);
  });

  it("a function call is a tool call; a blocked prompt is filtered; missing counts are zero", () => {
    const call = {
      key: "k",
      response: {
        candidates: [{ content: { parts: [{ functionCall: { name: "f" } }] }, finishReason: "STOP" }],
      },
    };
    expect(parseGeminiRecord(call)?.result).toMatchObject({
      status: "succeeded",
      finishReason: "tool_calls",
    });
    expect(parseGeminiRecord(call)?.result.text).toBeUndefined();
    const blocked = {
      key: "k",
      response: {
        promptFeedback: { blockReason: "SAFETY" },
        usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 },
      },
    };
    expect(parseGeminiRecord(blocked)?.result).toMatchObject({
      status: "succeeded",
      finishReason: "content_filter",
      usage: { inputTokens: 4, outputTokens: 0, totalTokens: 4 },
    });
  });

  it("errors: a Status by number, an HTTP-style status by name, a cancelled request, an empty record", () => {
    expect(parseGeminiRecord({ key: "a", error: { code: 3, message: "bad request" } })?.result).toEqual({
      status: "failed",
      error: { code: "INVALID_ARGUMENT", message: "bad request" },
      raw: { key: "a", error: { code: 3, message: "bad request" } },
    });
    expect(
      parseGeminiRecord({
        metadata: { key: "b" },
        error: { code: 429, message: "slow down", status: "RESOURCE_EXHAUSTED" },
      })?.result.error,
    ).toEqual({ code: "RESOURCE_EXHAUSTED", message: "slow down" });
    expect(parseGeminiRecord({ key: "c", status: { code: 13, message: "oops" } })?.result.error?.code).toBe(
      "INTERNAL",
    );
    expect(parseGeminiRecord({ key: "d", error: { code: 1, message: "stopped" } })?.result.status).toBe(
      "cancelled",
    );
    expect(parseGeminiRecord({ key: "e" })?.result).toMatchObject({
      status: "failed",
      error: { code: "unknown_result" },
    });
    expect(parseGeminiRecord({ response })).toBeNull();
    expect(parseGeminiRecord("not a record")).toBeNull();
  });
});

describe("streaming the arrays out of a JSON document", () => {
  const document = {
    name: "batches/x",
    metadata: {
      state: "BATCH_STATE_SUCCEEDED",
      'odd "key" [': "value with ] and } and \\ and \u00e9 \ud83d\ude00",
      output: {
        inlinedResponses: {
          inlinedResponses: [
            { metadata: { key: "a" }, response: { text: '[{"nested"}]' } },
            { metadata: { key: "b" }, error: { code: 3, message: "x" } },
            "a string",
            42,
            [1, [2, { three: 3 }]],
          ],
        },
      },
    },
    response: { inlinedResponses: { inlinedResponses: [] }, other: [1, 2] },
  };
  const paths = [
    ["metadata", "output", "inlinedResponses", "inlinedResponses"],
    ["response", "inlinedResponses", "inlinedResponses"],
  ];

  async function run(chunks: (string | Buffer)[]): Promise<JsonStreamEvent[]> {
    const events: JsonStreamEvent[] = [];
    for await (const event of streamJsonArrays(chunks, paths)) events.push(event);
    return events;
  }

  it("yields each element once and the document without them, however the text is cut", async () => {
    const text = JSON.stringify(document, null, 1);
    const bytes = Buffer.from(text);
    const expectedElements = document.metadata.output.inlinedResponses.inlinedResponses;
    const expectedDocument = structuredClone(document);
    expectedDocument.metadata.output.inlinedResponses.inlinedResponses = [];
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      const events = await run(chunks);
      expect(
        events.filter((event) => event.kind === "element").map((event) => event.value),
        `chunks of ${size}`,
      ).toEqual(expectedElements);
      expect(events.at(-1)).toEqual({ kind: "document", value: expectedDocument });
    }
  });

  it("leaves other arrays alone and refuses a document cut short", async () => {
    const events = await run([JSON.stringify({ response: { other: [1, 2] }, list: [{ a: 1 }] })]);
    expect(events).toEqual([{ kind: "document", value: { response: { other: [1, 2] }, list: [{ a: 1 }] } }]);
    const text = JSON.stringify(document);
    await expect(run([text.slice(0, text.length - 10)])).rejects.toThrow();
    // Elements not wanted are skimmed: never yielded, and the document is the same.
    const skimmed: JsonStreamEvent[] = [];
    for await (const event of streamJsonArrays([text.slice(0, 50), text.slice(50)], paths, () => false))
      skimmed.push(event);
    expect(skimmed.map((event) => event.kind)).toEqual(["document"]);
    expect(skimmed[0]).toEqual((await run([text])).at(-1));
  });
});

describe("display names and inline bodies", () => {
  it("names a batch for its submission, shard and attempt, whatever the job ID's length", () => {
    const tags = { jobId: "job-1", shardIndex: 3, submissionId: "0123456789abcdef", attempt: 1 };
    expect(displayNameFor(tags)).toBe("relay/0123456789abcdef/3/1/job-1");
    expect(isNamedFor(displayNameFor(tags), tags)).toBe(true);
    expect(isNamedFor(displayNameFor({ ...tags, attempt: 0 }), tags)).toBe(false);
    expect(isNamedFor(displayNameFor({ ...tags, shardIndex: 31 }), tags)).toBe(false);
    expect(isNamedFor(undefined, tags)).toBe(false);
    const long = { ...tags, jobId: "j".repeat(128) };
    expect(displayNameFor(long).length).toBe(128);
    expect(isNamedFor(displayNameFor(long), long)).toBe(true);
  });

  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "relay-gemini-inline-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("rewrites shard lines as inlined requests, and keeps inline bodies under 20 MB", async () => {
    const requests = [
      { id: "a", model: MODEL, prompt: "first" },
      { id: "b", model: MODEL, prompt: 'second "quoted"' },
    ];
    const shard = join(directory, "shard.jsonl");
    await writeFile(shard, `${requests.map((request) => encodeGeminiLine(request)).join("\n")}\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of inlineCreateBody(shard, "relay/x/0/0/job")) chunks.push(Buffer.from(chunk));
    expect(JSON.parse(Buffer.concat(chunks).toString("utf8"))).toEqual({
      batch: {
        displayName: "relay/x/0/0/job",
        inputConfig: {
          requests: {
            requests: requests.map((request) => ({
              request: geminiRequestBody(request),
              metadata: { key: request.id },
            })),
          },
        },
      },
    });
    expect(await fitsInline(shard)).toBe(true);

    const line = encodeGeminiLine({ id: "big", model: MODEL, prompt: "x".repeat(999_000) });
    await writeFile(shard, `${Array(19).fill(line).join("\n")}\n`);
    expect(await fitsInline(shard)).toBe(true);
    await writeFile(shard, `${Array(21).fill(line).join("\n")}\n`);
    expect(await fitsInline(shard)).toBe(false);
  });
});
