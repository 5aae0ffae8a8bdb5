import { describe, expect, it } from "vitest";
import { toProviderBatch } from "../src/providers/mistral/batch.js";
import { parseMistralRecord } from "../src/providers/mistral/decode.js";
import { encodeMistralLine } from "../src/providers/mistral/encode.js";
import { mistralEntry } from "../src/providers/mistral/entry.js";
import { normaliseMistralStatus } from "../src/providers/mistral/status.js";
import { errorMessage } from "../src/providers/shared/rest-client.js";

const LIMITS = mistralEntry.limits;

/** A result line in the shape of the batch guide's sample output. */
function successLine(
  overrides: { finish?: string; usage?: Record<string, unknown>; content?: string | null } = {},
) {
  return {
    id: "batch-cd0da3ab-1-377e2e82-7cbb-4f72-bc67-533512f70955",
    custom_id: "0",
    response: {
      status_code: 200,
      body: {
        id: "85bcfa450e5643f2a2aed46472d97ffd",
        object: "chat.completion",
        model: "ministral-3b-latest",
        usage: overrides.usage ?? { prompt_tokens: 10, completion_tokens: 128, total_tokens: 138 },
        created: 1761577934,
        choices: [
          {
            index: 0,
            finish_reason: overrides.finish ?? "stop",
            message: {
              role: "assistant",
              content: overrides.content === undefined ? "Camembert." : overrides.content,
              tool_calls: null,
            },
          },
        ],
      },
    },
    error: null,
  };
}

describe("Mistral adapter pieces", () => {
  it("registers under MISTRAL_API_KEY and MISTRAL_BASE_URL, the host root as the SDK's serverURL", () => {
    expect(mistralEntry).toMatchObject({
      name: "mistral",
      apiKeyEnv: "MISTRAL_API_KEY",
      baseURLEnv: "MISTRAL_BASE_URL",
      defaultBaseURL: "https://api.mistral.ai",
      emulatorBasePath: "/mistral",
      priceKey: "mistral",
    });
    expect(LIMITS).toMatchObject({
      maxRequestsPerBatch: 1_000_000,
      maxBytesPerBatch: 512_000_000,
      oneModelPerBatch: true,
    });
  });

  it.each([
    ["QUEUED", "pending"],
    ["RUNNING", "in_progress"],
    ["SUCCESS", "completed"],
    ["FAILED", "failed"],
    ["TIMEOUT_EXCEEDED", "expired"],
    ["CANCELLATION_REQUESTED", "cancelling"],
    ["CANCELLED", "cancelled"],
    ["success", "completed"],
    ["PAUSED_FOR_SOMETHING_NEW", "in_progress"],
  ])("normalises status %s to %s", (raw, expected) => {
    expect(normaliseMistralStatus(raw)).toBe(expected);
    expect(mistralEntry.normaliseStatus(raw)).toBe(expected);
  });

  it("encodes {custom_id, body} without the model (named on the job), with max_tokens and provider args last", () => {
    const line = encodeMistralLine({
      id: "q-1",
      model: "mistral-small-latest",
      systemPrompt: "sys",
      messages: [
        { role: "user", content: "earlier" },
        { role: "assistant", content: "reply" },
      ],
      prompt: "now",
      maxTokens: 12,
      providerArgs: { temperature: 0.2, random_seed: 7 },
    });
    expect(JSON.parse(line)).toEqual({
      custom_id: "q-1",
      body: {
        messages: [
          { role: "system", content: "sys" },
          { role: "user", content: "earlier" },
          { role: "assistant", content: "reply" },
          { role: "user", content: "now" },
        ],
        max_tokens: 12,
        temperature: 0.2,
        random_seed: 7,
      },
    });
    expect(JSON.parse(encodeMistralLine({ id: "q", model: "m", prompt: "p" })).body).toEqual({
      messages: [{ role: "user", content: "p" }],
    });
  });

  it("accepts custom_ids of 1 to 64 characters without whitespace or control characters", () => {
    const pattern = LIMITS.customIdPattern;
    for (const ok of ["0", "req-1", "a".repeat(64), "ünïcode/ok:1"]) expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ["", "a".repeat(65), "has space", "tab\there", "new\nline"]) {
      expect(pattern.test(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it("parses a success line: text, usage, finish reason, raw kept", () => {
    const line = successLine();
    expect(parseMistralRecord(line)).toEqual({
      customId: "0",
      result: {
        status: "succeeded",
        text: "Camembert.",
        finishReason: "stop",
        usage: { inputTokens: 10, outputTokens: 128, totalTokens: 138 },
        model: "ministral-3b-latest",
        raw: line,
      },
    });
    expect(mistralEntry.parseRecord(line)).toEqual(parseMistralRecord(line));
  });

  it.each([
    ["length", "length"],
    ["model_length", "length"],
    ["tool_calls", "tool_calls"],
    ["error", "other"],
  ])("maps finish_reason %s to %s", (finish, expected) => {
    expect(parseMistralRecord(successLine({ finish }))?.result.finishReason).toBe(expected);
  });

  it("reads cached prompt tokens from each of UsageInfo's spellings", () => {
    const base = { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105 };
    for (const usage of [
      { ...base, prompt_tokens_details: { cached_tokens: 40 } },
      { ...base, prompt_token_details: { cached_tokens: 40 } },
      { ...base, num_cached_tokens: 40 },
    ]) {
      expect(parseMistralRecord(successLine({ usage }))?.result.usage).toEqual({
        inputTokens: 100,
        outputTokens: 5,
        totalTokens: 105,
        cachedInputTokens: 40,
      });
    }
  });

  it("parses a failed request answered with Mistral's error envelope", () => {
    const line = {
      id: "batch-1",
      custom_id: "r",
      response: {
        status_code: 400,
        body: {
          object: "error",
          message: "Invalid model: nope",
          type: "invalid_model",
          param: null,
          code: "1500",
        },
      },
      error: null,
    };
    expect(parseMistralRecord(line)?.result).toEqual({
      status: "failed",
      error: { code: "1500", message: "Invalid model: nope" },
      raw: line,
    });
    const numericCode = {
      ...line,
      response: { ...line.response, body: { ...line.response.body, code: 3001 } },
    };
    expect(parseMistralRecord(numericCode)?.result.error?.code).toBe("3001");
  });

  it("parses a request refused with a 422 validation detail, in either of Mistral's spellings", () => {
    const detail = [
      {
        type: "extra_forbidden",
        loc: ["body", "max_completion_tokens"],
        msg: "Extra inputs are not permitted",
      },
    ];
    for (const [body, code] of [
      [
        { object: "error", message: { detail }, type: "invalid_request_error", param: null, code: null },
        "invalid_request_error",
      ],
      [{ detail }, "http_422"],
    ] as const) {
      const line = { custom_id: "r", response: { status_code: 422, body }, error: null };
      expect(parseMistralRecord(line)?.result.error).toEqual({
        code,
        message: "body.max_completion_tokens: Extra inputs are not permitted",
      });
    }
  });

  it("parses records without a response: an error object, an expired or cancelled request", () => {
    const errored = {
      id: "x",
      custom_id: "e",
      response: null,
      error: { message: "boom", code: "server_error" },
    };
    expect(parseMistralRecord(errored)?.result).toEqual({
      status: "failed",
      error: { code: "server_error", message: "boom" },
      raw: errored,
    });
    const expired = { custom_id: "x", response: null, error: { code: "batch_expired", message: "late" } };
    expect(parseMistralRecord(expired)?.result.status).toBe("expired");
    const cancelled = { custom_id: "y", response: null, error: { code: "batch_cancelled", message: "stop" } };
    expect(parseMistralRecord(cancelled)?.result.status).toBe("cancelled");
    expect(parseMistralRecord({ response: null, error: null })).toBeNull();
    expect(parseMistralRecord("not a record")).toBeNull();
  });

  it("reads a BatchJobOut: counts, files, timestamps and the reason a job failed", () => {
    const job = {
      id: "7c5b1f0e-1111-4222-8333-444455556666",
      object: "batch",
      input_files: ["0b5c6f4e-aaaa-4bbb-8ccc-ddddeeeeffff"],
      metadata: { relay_job_id: "j" },
      endpoint: "/v1/chat/completions",
      model: "mistral-small-latest",
      output_file: "11111111-2222-4333-8444-555566667777",
      error_file: null,
      errors: [],
      status: "SUCCESS",
      created_at: 1_761_577_900,
      total_requests: 10,
      completed_requests: 10,
      succeeded_requests: 8,
      failed_requests: 2,
      started_at: 1_761_577_910,
      completed_at: 1_761_577_990,
    };
    expect(toProviderBatch(job)).toEqual({
      id: job.id,
      status: "completed",
      providerStatus: "SUCCESS",
      total: 10,
      completed: 8,
      failed: 2,
      inputFileId: job.input_files[0],
      outputFileId: job.output_file,
      errorFileId: null,
      error: null,
      progress: null,
      createdAt: 1_761_577_900_000,
      raw: job,
    });
    const failed = toProviderBatch({
      ...job,
      status: "FAILED",
      output_file: null,
      errors: [
        { message: "Line 3 is not valid JSON.", count: 1 },
        { message: "Bad model", count: 4 },
      ],
    });
    expect(failed).toMatchObject({
      status: "failed",
      outputFileId: null,
      error: { message: "Line 3 is not valid JSON.; Bad model (4 times)" },
    });
    expect(toProviderBatch({ ...job, status: "FAILED", errors: [] }).error).toEqual({
      message: "the batch job failed",
    });
  });

  it("reads the messages of Mistral's error answers", () => {
    expect(errorMessage(401, JSON.stringify({ detail: "Unauthorized" }))).toBe("Unauthorized");
    expect(errorMessage(404, JSON.stringify({ object: "error", message: "Not found", type: "x" }))).toBe(
      "Not found",
    );
    const detail = [{ type: "missing", loc: ["body", "endpoint"], msg: "Field required" }];
    expect(errorMessage(422, JSON.stringify({ object: "error", message: { detail } }))).toBe(
      "body.endpoint: Field required",
    );
    expect(errorMessage(422, JSON.stringify({ detail }))).toBe("body.endpoint: Field required");
  });
});
