import Anthropic from "@anthropic-ai/sdk";
import type { MessageBatchIndividualResponse } from "@anthropic-ai/sdk/resources/messages/batches";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { TEST_KEYS } from "./support/harness.js";

const MODEL = "claude-sonnet-4-5";
const DAY_MS = 24 * 60 * 60_000;

function request(customId: string, content: string, extra: Record<string, unknown> = {}) {
  return {
    custom_id: customId,
    params: { model: MODEL, max_tokens: 1024, messages: [{ role: "user" as const, content }], ...extra },
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("the official @anthropic-ai/sdk, unchanged, against the emulator", () => {
  let clock: ManualClock;
  let emulator: Emulator;
  let sdk: Anthropic;

  beforeEach(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock });
    sdk = new Anthropic({
      apiKey: TEST_KEYS.anthropic,
      baseURL: emulator.baseURL("anthropic"),
      maxRetries: 0,
    });
  });
  afterEach(async () => {
    await emulator.close();
  });

  it("takes the SDK's typed structured output, tools, images, cached system blocks and thinking, and answers in kind", async () => {
    const batch = await sdk.messages.batches.create({
      requests: [
        {
          custom_id: "json",
          params: {
            model: MODEL,
            max_tokens: 512,
            system: [{ type: "text", text: "Be exact.", cache_control: { type: "ephemeral" } }],
            messages: [
              {
                role: "user",
                content: [
                  { type: "text", text: "Which colour?" },
                  {
                    type: "image",
                    source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
                  },
                ],
              },
            ],
            output_config: {
              format: {
                type: "json_schema",
                schema: {
                  type: "object",
                  properties: { colour: { type: "string", enum: ["red", "blue"] } },
                  required: ["colour"],
                  additionalProperties: false,
                },
              },
            },
          },
        },
        {
          custom_id: "call",
          params: {
            model: MODEL,
            max_tokens: 4096,
            messages: [{ role: "user", content: "Weather in Paris?" }],
            tools: [
              {
                name: "get_weather",
                input_schema: {
                  type: "object",
                  properties: { city: { type: "string" } },
                  required: ["city"],
                },
              },
            ],
            tool_choice: { type: "tool", name: "get_weather" },
          },
        },
        {
          custom_id: "think",
          params: {
            model: MODEL,
            max_tokens: 4096,
            thinking: { type: "enabled", budget_tokens: 2048 },
            messages: [{ role: "user", content: "Think it over." }],
          },
        },
      ],
    });
    clock.advance(60_000);
    const results = await collect(await sdk.messages.batches.results(batch.id));
    const byId = new Map(results.map((line) => [line.custom_id, line.result]));
    const json = byId.get("json");
    if (json?.type !== "succeeded") throw new Error("expected a succeeded result");
    const text = json.message.content.find((block) => block.type === "text");
    expect(["red", "blue"]).toContain(JSON.parse(text?.type === "text" ? text.text : "{}").colour);
    const call = byId.get("call");
    if (call?.type !== "succeeded") throw new Error("expected a succeeded result");
    expect(call.message.stop_reason).toBe("tool_use");
    const use = call.message.content.find((block) => block.type === "tool_use");
    expect(use?.type === "tool_use" && use.name).toBe("get_weather");
    const think = byId.get("think");
    if (think?.type !== "succeeded") throw new Error("expected a succeeded result");
    expect(think.message.content[0]?.type).toBe("thinking");
    expect(think.message.usage.output_tokens_details?.thinking_tokens).toBeGreaterThan(0);
  });

  it("creates, retrieves, lists, streams results from the absolute results_url, and deletes", async () => {
    const createdAt = clock.now();
    const { data: batch, request_id } = await sdk.messages.batches
      .create({
        requests: [
          request("greeting", "Hello there"),
          request("long-story", "Tell me a long story about the sea", { max_tokens: 3, system: "Be brief." }),
          request("refused", "[emulator:fail] this one is refused"),
        ],
      })
      .withResponse();
    expect(request_id).toMatch(/^req_/);
    expect(batch).toEqual({
      id: expect.stringMatching(/^msgbatch_/),
      type: "message_batch",
      processing_status: "in_progress",
      request_counts: { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      created_at: new Date(createdAt).toISOString(),
      expires_at: new Date(createdAt + DAY_MS).toISOString(),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    });

    // Part-way through, requests have finished but the counts stay at "processing" until the batch ends.
    clock.advance(2_000);
    const running = await sdk.messages.batches.retrieve(batch.id);
    expect(running.processing_status).toBe("in_progress");
    expect(running.request_counts).toEqual({
      processing: 3,
      succeeded: 0,
      errored: 0,
      canceled: 0,
      expired: 0,
    });
    await expect(sdk.messages.batches.results(batch.id)).rejects.toThrow(/results_url/);

    clock.advance(60_000);
    const ended = await sdk.messages.batches.retrieve(batch.id);
    const resultsUrl = `${emulator.baseURL("anthropic")}/v1/messages/batches/${batch.id}/results`;
    expect(ended).toMatchObject({
      processing_status: "ended",
      request_counts: { processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 },
      cancel_initiated_at: null,
      results_url: resultsUrl,
    });
    expect(Date.parse(ended.ended_at ?? "")).toBeGreaterThan(createdAt);

    const results = await collect<MessageBatchIndividualResponse>(
      await sdk.messages.batches.results(batch.id),
    );
    expect(emulator.requestLog).toContainEqual({
      method: "GET",
      path: new URL(resultsUrl).pathname,
      status: 200,
    });
    expect(results.map((line) => line.custom_id).sort()).toEqual(["greeting", "long-story", "refused"]);
    const byId = new Map(results.map((line) => [line.custom_id, line.result]));
    const greeting = byId.get("greeting");
    expect(greeting).toEqual({
      type: "succeeded",
      message: {
        id: expect.stringMatching(/^msg_/),
        type: "message",
        role: "assistant",
        model: MODEL,
        content: [{ type: "text", text: expect.stringContaining("Hello there") }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: {
          input_tokens: expect.any(Number),
          output_tokens: expect.any(Number),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
    const truncated = byId.get("long-story");
    expect(truncated?.type === "succeeded" && truncated.message.stop_reason).toBe("max_tokens");
    expect(truncated?.type === "succeeded" && truncated.message.usage.output_tokens).toBe(3);
    expect(byId.get("refused")).toEqual({
      type: "errored",
      error: {
        type: "error",
        error: { type: "invalid_request_error", message: expect.any(String) },
        request_id: expect.any(String),
      },
    });

    // Reading twice gives the same lines: a reader that resumes by skipping lines can rely on it.
    const again = await collect<MessageBatchIndividualResponse>(await sdk.messages.batches.results(batch.id));
    expect(again).toEqual(results);

    await expect(sdk.messages.batches.delete(batch.id)).resolves.toEqual({
      id: batch.id,
      type: "message_batch_deleted",
    });
    const gone = await sdk.messages.batches.retrieve(batch.id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(Anthropic.NotFoundError);
    expect((gone as InstanceType<typeof Anthropic.NotFoundError>).type).toBe("not_found_error");
    expect(emulator.batchCount("anthropic")).toBe(0);
  });

  it("lists newest first, page by page, in both directions", async () => {
    const ids: string[] = [];
    for (const name of ["a", "b", "c"]) {
      ids.push((await sdk.messages.batches.create({ requests: [request(name, `prompt ${name}`)] })).id);
      clock.advance(1_000);
    }
    const [oldest, middle, newest] = ids as [string, string, string];

    const everything = await sdk.messages.batches.list();
    expect(everything.data.map((batch) => batch.id)).toEqual([newest, middle, oldest]);
    expect(everything).toMatchObject({ has_more: false, first_id: newest, last_id: oldest });

    const first = await sdk.messages.batches.list({ limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual([newest, middle]);
    expect(first.has_more).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((batch) => batch.id)).toEqual([oldest]);
    expect(second.has_more).toBe(false);

    const auto = await collect(sdk.messages.batches.list({ limit: 1 }));
    expect(auto.map((batch) => batch.id)).toEqual([newest, middle, oldest]);

    const before = await sdk.messages.batches.list({ before_id: oldest, limit: 1 });
    expect(before.data.map((batch) => batch.id)).toEqual([middle]);
    expect(before.has_more).toBe(true);

    for (const limit of [0, 1001]) {
      const refused = await sdk.messages.batches.list({ limit }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    }
  });

  it("cancels a running batch: canceling, then ended with the unfinished requests canceled", async () => {
    const batch = await sdk.messages.batches.create({
      requests: [request("one", "first"), request("two", "second"), request("three", "third")],
    });
    // Requests finish one by one over the in-progress stage; stop the clock after the first.
    clock.advance(emulator.timing.validatingMs + emulator.timing.inProgressMs / 3 + 1);

    const cancelling = await sdk.messages.batches.cancel(batch.id);
    expect(cancelling).toMatchObject({
      processing_status: "canceling",
      cancel_initiated_at: new Date(clock.now()).toISOString(),
      results_url: null,
      request_counts: { processing: 3, succeeded: 0, canceled: 0 },
    });
    const refusedDelete = await sdk.messages.batches.delete(batch.id).catch((error: unknown) => error);
    expect(refusedDelete).toBeInstanceOf(Anthropic.BadRequestError);

    clock.advance(emulator.timing.cancellingMs);
    const ended = await sdk.messages.batches.retrieve(batch.id);
    expect(ended).toMatchObject({
      processing_status: "ended",
      request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 2, expired: 0 },
    });
    const results = await collect<MessageBatchIndividualResponse>(
      await sdk.messages.batches.results(batch.id),
    );
    expect(Object.fromEntries(results.map((line) => [line.custom_id, line.result.type]))).toEqual({
      one: "succeeded",
      two: "canceled",
      three: "canceled",
    });
    const refusedCancel = await sdk.messages.batches.cancel(batch.id).catch((error: unknown) => error);
    expect(refusedCancel).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it("refuses a request without an API key with 401 authentication_error", async () => {
    // The SDK's own way to send a request with no credentials at all.
    const keyless = new Anthropic({
      apiKey: "unused",
      baseURL: emulator.baseURL("anthropic"),
      maxRetries: 0,
      defaultHeaders: { authorization: null },
    });
    const error = await keyless.messages.batches.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    const apiError = error as InstanceType<typeof Anthropic.AuthenticationError>;
    expect(apiError.status).toBe(401);
    expect(apiError.error).toEqual({
      type: "error",
      error: { type: "authentication_error", message: expect.any(String) },
      request_id: expect.stringMatching(/^req_/),
    });
  });

  it("accepts the documented x-api-key header and requires anthropic-version", async () => {
    const url = `${emulator.baseURL("anthropic")}/v1/messages/batches`;
    const withVersion = await fetch(url, {
      headers: { "x-api-key": TEST_KEYS.anthropic, "anthropic-version": "2023-06-01" },
    });
    expect(withVersion.status).toBe(200);
    expect(withVersion.headers.get("request-id")).toMatch(/^req_/);
    expect(await withVersion.json()).toEqual({ data: [], has_more: false, first_id: null, last_id: null });

    const withoutVersion = await fetch(url, { headers: { "x-api-key": TEST_KEYS.anthropic } });
    expect(withoutVersion.status).toBe(400);
    expect(await withoutVersion.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error" },
    });
  });

  it("refuses a bad batch with 400 invalid_request_error and creates nothing", async () => {
    const cases = [
      { requests: [request("has space", "x")], mention: "custom_id" },
      { requests: [request("x".repeat(65), "x")], mention: "custom_id" },
      { requests: [request("twice", "x"), request("twice", "y")], mention: "twice" },
      { requests: [request("no-max", "x", { max_tokens: 0 })], mention: "max_tokens" },
      {
        requests: [request("system-role", "x", { messages: [{ role: "system", content: "No." }] })],
        mention: "role",
      },
      { requests: [], mention: "requests" },
    ];
    for (const { requests, mention } of cases) {
      const error = await sdk.messages.batches.create({ requests }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      const apiError = error as InstanceType<typeof Anthropic.BadRequestError>;
      expect(apiError.type).toBe("invalid_request_error");
      expect(apiError.error).toEqual({
        type: "error",
        error: { type: "invalid_request_error", message: expect.stringContaining(mention) },
        request_id: apiError.requestID,
      });
    }
    expect(emulator.batchCount("anthropic")).toBe(0);
  });
});
