import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RelayClient } from "../src/index.js";
import { anthropicEntry } from "../src/providers/anthropic/entry.js";
import { anthropicBatchStatus } from "../src/providers/anthropic/status.js";

/** Result records as the Python Relay stored them: the SDK's objects dumped whole, nulls included. */
const pythonRecords = [
  {
    custom_id: "q1",
    result: {
      type: "succeeded",
      message: {
        id: "msg_01XFDUDYJgAACzvnptvVoYEL",
        content: [
          { citations: null, text: "Four", type: "text" },
          { id: "toolu_01", input: { expression: "2+2" }, name: "calculator", type: "tool_use" },
          { citations: null, text: ", computed.", type: "text" },
        ],
        model: "claude-3-5-sonnet-20241022",
        role: "assistant",
        stop_reason: "tool_use",
        stop_sequence: null,
        type: "message",
        usage: {
          cache_creation_input_tokens: null,
          cache_read_input_tokens: null,
          input_tokens: 21,
          output_tokens: 9,
          server_tool_use: null,
          service_tier: "batch",
        },
      },
    },
  },
  {
    custom_id: "q2",
    result: {
      type: "errored",
      error: {
        type: "error",
        error: { type: "invalid_request_error", message: "max_tokens: Field required" },
      },
    },
  },
  { custom_id: "q3", result: { type: "expired" } },
];

describe("Anthropic result records", () => {
  it("parses every result type, keeping the record as raw", () => {
    const [succeeded, errored, expired] = pythonRecords.map((record) => anthropicEntry.parseRecord(record));
    expect(succeeded).toEqual({
      customId: "q1",
      result: {
        status: "succeeded",
        text: "Four, computed.",
        toolCalls: [{ id: "toolu_01", name: "calculator", arguments: { expression: "2+2" } }],
        finishReason: "tool_calls",
        usage: { inputTokens: 21, outputTokens: 9, totalTokens: 30 },
        model: "claude-3-5-sonnet-20241022",
        raw: pythonRecords[0],
      },
    });
    expect(errored).toEqual({
      customId: "q2",
      result: {
        status: "failed",
        error: { code: "invalid_request_error", message: "max_tokens: Field required" },
        raw: pythonRecords[1],
      },
    });
    expect(expired?.result).toMatchObject({ status: "expired", error: { code: "batch_expired" } });
    expect(
      anthropicEntry.parseRecord({ custom_id: "q4", result: { type: "canceled" } })?.result,
    ).toMatchObject({
      status: "cancelled",
      error: { code: "batch_cancelled" },
    });
    // An error given without the {type: "error"} envelope is read too.
    expect(
      anthropicEntry.parseRecord({
        custom_id: "q5",
        result: { type: "errored", error: { type: "overloaded_error", message: "busy" } },
      })?.result.error,
    ).toEqual({ code: "overloaded_error", message: "busy" });
    expect(anthropicEntry.parseRecord({ result: { type: "expired" } })).toBeNull();
  });

  it("normalises stop reasons and usage", () => {
    const withStop = (
      stop_reason: string,
      usage: Record<string, unknown> = { input_tokens: 1, output_tokens: 2 },
    ) =>
      anthropicEntry.parseRecord({
        custom_id: "x",
        result: {
          type: "succeeded",
          message: { content: [{ type: "text", text: "t" }], stop_reason, usage },
        },
      })?.result;
    expect(withStop("end_turn")?.finishReason).toBe("stop");
    expect(withStop("stop_sequence")?.finishReason).toBe("stop");
    expect(withStop("max_tokens")?.finishReason).toBe("length");
    expect(withStop("tool_use")?.finishReason).toBe("tool_calls");
    expect(withStop("refusal")?.finishReason).toBe("content_filter");
    expect(withStop("pause_turn")?.finishReason).toBe("other");
    const usage = {
      input_tokens: 10,
      output_tokens: 40,
      cache_read_input_tokens: 7,
      cache_creation_input_tokens: 3,
      output_tokens_details: { thinking_tokens: 30 },
    };
    // inputTokens counts every prompt token, as for OpenAI: uncached, cache reads and cache writes.
    expect(withStop("end_turn", usage)?.usage).toEqual({
      inputTokens: 20,
      outputTokens: 40,
      totalTokens: 60,
      cachedInputTokens: 7,
      cacheWriteInputTokens: 3,
      reasoningTokens: 30,
    });
  });

  it("derives the job status from the whole batch object, not processing_status alone", () => {
    const batch = (processing_status: string, counts: Record<string, number>, cancelled = false) => ({
      processing_status,
      request_counts: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0, ...counts },
      cancel_initiated_at: cancelled ? "2026-01-01T00:00:00Z" : null,
    });
    expect(anthropicBatchStatus(batch("in_progress", { processing: 2 }))).toBe("in_progress");
    expect(anthropicBatchStatus(batch("canceling", { processing: 2 }, true))).toBe("cancelling");
    expect(anthropicBatchStatus(batch("ended", { succeeded: 1, errored: 1 }))).toBe("completed");
    expect(anthropicBatchStatus(batch("ended", { errored: 2 }))).toBe("completed");
    expect(anthropicBatchStatus(batch("ended", { succeeded: 2 }, true))).toBe("cancelled");
    expect(anthropicBatchStatus(batch("ended", { expired: 2 }))).toBe("expired");
    expect(anthropicBatchStatus(batch("ended", { expired: 1, succeeded: 1 }))).toBe("completed");
    expect(anthropicEntry.normaliseStatus("ended")).toBe("completed");
    expect(anthropicEntry.normaliseStatus("canceling")).toBe("cancelling");
  });
});

describe("a workspace written by the Python Relay for Anthropic", () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "relay-py-anthropic-"));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("reads the job and its stored results", async () => {
    const record = {
      job_id: "py-job",
      provider_job_id: "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d",
      provider: "anthropic",
      submitted_at: "2026-11-23T20:32:36.267468",
      status: "ended",
      n_requests: 3,
      completed_requests: 1,
      failed_requests: 2,
      description: "from python",
    };
    await writeFile(join(directory, "py-job.json"), JSON.stringify(record, null, 2));
    await writeFile(join(directory, "py-job_results.json"), JSON.stringify(pythonRecords, null, 2));

    const client = new RelayClient({ directory, env: {} });
    expect(await client.getJob("py-job")).toMatchObject({ status: "completed", provider_status: "ended" });
    const results = await client.getResults("py-job");
    expect(results?.map((result) => [result.id, result.status])).toEqual([
      ["q1", "succeeded"],
      ["q2", "failed"],
      ["q3", "expired"],
    ]);
    expect(results?.[0]).toMatchObject({ text: "Four, computed.", raw: pythonRecords[0] });
  });
});
