import { describe, expect, it } from "vitest";
import { groqEntry } from "../src/providers/groq/entry.js";
import { completionWindowMs, groqCompletionWindow } from "../src/providers/groq/window.js";
import { resolveProviderConfig } from "../src/providers/registry.js";
import { toProviderBatch } from "../src/providers/shared/openai-compatible/batch.js";

const HOUR_MS = 60 * 60_000;

/** A success line in the shape groq-api-cookbook records (values made up). */
const SUCCESS_LINE = {
  id: "batch_req_out_01jpthgykte7396v5ape5vcty3",
  custom_id: "request-1",
  response: {
    status_code: 200,
    request_id: "req_01jpthgyahe3vbw7k2bbrvgyee",
    body: {
      id: "chatcmpl-5cbc35f5-82f3-4aaa-876e-9c6de82907e4",
      object: "chat.completion",
      created: 1742500035,
      model: "llama-3.1-8b-instant",
      choices: [
        { index: 0, message: { role: "assistant", content: "Four." }, logprobs: null, finish_reason: "stop" },
      ],
      usage: {
        queue_time: 0.27,
        prompt_tokens: 48,
        prompt_time: 0.0038,
        completion_tokens: 12,
        completion_time: 0.016,
        total_tokens: 60,
        total_time: 0.0198,
      },
      system_fingerprint: "fp_a4265e44d5",
      x_groq: { id: "req_01jpthgyahe3vbw7k2bbrvgyee" },
    },
  },
  error: null,
};

describe("Groq adapter pieces", () => {
  it("registers under GROQ_API_KEY and GROQ_BASE_URL, with the host root as base URL", () => {
    expect(groqEntry).toMatchObject({
      name: "groq",
      apiKeyEnv: "GROQ_API_KEY",
      baseURLEnv: "GROQ_BASE_URL",
      defaultBaseURL: "https://api.groq.com",
      emulatorBasePath: "/groq",
      priceKey: "groq",
    });
    expect(groqEntry.limits).toMatchObject({ maxRequestsPerBatch: 50_000, maxBytesPerBatch: 100_000_000 });
  });

  it("encodes chat-completions lines with max_completion_tokens and provider args last", async () => {
    const adapter = await groqEntry.create(resolveProviderConfig(groqEntry, { apiKey: "k" }, {}));
    const line = JSON.parse(
      adapter.encodeRequest(
        {
          id: "q-1",
          model: "llama-3.1-8b-instant",
          systemPrompt: "sys",
          messages: [{ role: "assistant", content: "before" }],
          prompt: "now",
          maxTokens: 9,
          providerArgs: { temperature: 0, max_completion_tokens: 7 },
        },
        { endpoint: null },
      ),
    );
    expect(line).toEqual({
      custom_id: "q-1",
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: "llama-3.1-8b-instant",
        messages: [
          { role: "system", content: "sys" },
          { role: "assistant", content: "before" },
          { role: "user", content: "now" },
        ],
        max_completion_tokens: 7,
        temperature: 0,
      },
    });
    expect(() => adapter.checkEndpoint("/v1/responses")).toThrow(
      /Groq batches in Relay support the endpoint/,
    );
  });

  it.each([
    ["validating", "pending"],
    ["in_progress", "in_progress"],
    ["finalizing", "in_progress"],
    ["completed", "completed"],
    ["failed", "failed"],
    ["expired", "expired"],
    ["cancelling", "cancelling"],
    ["cancelled", "cancelled"],
    ["something_new", "in_progress"],
  ])("normalises status %s to %s", (raw, expected) => {
    expect(groqEntry.normaliseStatus(raw)).toBe(expected);
  });

  it("reads a success line: text, usage with Groq's timings beside it, finish reason, raw kept", () => {
    const parsed = groqEntry.parseRecord(SUCCESS_LINE);
    expect(parsed).toEqual({
      customId: "request-1",
      result: {
        status: "succeeded",
        text: "Four.",
        finishReason: "stop",
        usage: { inputTokens: 48, outputTokens: 12, totalTokens: 60 },
        model: "llama-3.1-8b-instant",
        raw: SUCCESS_LINE,
      },
    });
  });

  it.each([
    [
      "a refused request",
      {
        status_code: 400,
        body: { error: { message: "bad", type: "invalid_request_error", code: "bad_model" } },
      },
      null,
      { status: "failed", error: { code: "bad_model", message: "bad" } },
    ],
    [
      "a 500 without a body",
      { status_code: 500, body: null },
      null,
      { status: "failed", error: { code: "http_500" } },
    ],
    ["an expired request", null, { code: "batch_expired", message: "late" }, { status: "expired" }],
    ["a cancelled request", null, { code: "batch_cancelled", message: "stop" }, { status: "cancelled" }],
    ["a server error", null, { code: "server_error", message: "oops" }, { status: "failed" }],
  ])("reads an error line: %s", (_label, response, error, expected) => {
    const line = { id: "batch_req_out_01x", custom_id: "r", response, error };
    const parsed = groqEntry.parseRecord(line);
    expect(parsed?.customId).toBe("r");
    expect(parsed?.result).toMatchObject({ ...expected, raw: line });
    expect(parsed?.result.text).toBeUndefined();
  });

  it("reads a truncated completion as length, and ignores a line without custom_id", () => {
    const body = {
      ...SUCCESS_LINE.response.body,
      choices: [{ message: { content: "Fo" }, finish_reason: "length" }],
    };
    const line = { ...SUCCESS_LINE, response: { ...SUCCESS_LINE.response, body } };
    expect(groqEntry.parseRecord(line)?.result.finishReason).toBe("length");
    expect(groqEntry.parseRecord({ response: SUCCESS_LINE.response })).toBeNull();
  });

  it("reads a batch object, with the reason of a failed one", () => {
    const batch = toProviderBatch({
      id: "batch_01jpthgxffe8ms4zqdkf1aejjp",
      object: "batch",
      status: "failed",
      created_at: 1742500000,
      input_file_id: "file_01a",
      request_counts: { total: 0, completed: 0, failed: 0 },
      errors: { object: "list", data: [{ code: "invalid_request", message: "bad line", line: 3 }] },
    });
    expect(batch).toMatchObject({
      id: "batch_01jpthgxffe8ms4zqdkf1aejjp",
      status: "failed",
      providerStatus: "failed",
      inputFileId: "file_01a",
      outputFileId: null,
      createdAt: 1742500000_000,
      error: { code: "invalid_request", message: "bad line (line 3)" },
    });
  });

  it.each([
    ["24h", 24 * HOUR_MS],
    ["36h", 36 * HOUR_MS],
    ["2d", 48 * HOUR_MS],
    ["7d", 168 * HOUR_MS],
    ["168h", 168 * HOUR_MS],
  ])("takes the completion window %s", (window, ms) => {
    expect(groqCompletionWindow(window)).toBe(window);
    expect(completionWindowMs(window)).toBe(ms);
  });

  it.each([["23h"], ["8d"], ["169h"], ["0d"], ["1w"], ["24H"], [" 24h"], [""], [48], [null]])(
    "refuses the completion window %j",
    (window) => {
      expect(() => groqCompletionWindow(window)).toThrow(/from "24h" to "7d"/);
    },
  );

  it("defaults the completion window to 24h", () => {
    expect(groqCompletionWindow(undefined)).toBe("24h");
  });
});
