import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../src/index.js";
import { DEFAULT_MAX_TOKENS } from "../src/providers/anthropic/encode.js";
import { THINKING_BUDGETS } from "../src/providers/anthropic/thinking.js";
import type { BatchRequest, BatchResult } from "../src/types.js";
import { ENOUGH_TIME_MS, type Harness, startHarness } from "./support/harness.js";

const MODEL = "claude-sonnet-4-5";
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==";

const person = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 2 },
    age: { type: "integer", minimum: 0, maximum: 120 },
    tags: { type: "array", items: { type: "string" }, minItems: 1 },
  },
  required: ["name", "age", "tags"],
};
const personFormat = { type: "json_schema" as const, name: "person", schema: person };
const weather = {
  name: "get_weather",
  description: "The weather in a city.",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

type Json = Record<string, unknown>;

describe("Anthropic: every kind of request, through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const anthropic = () => harness.emulator.providers.anthropic;
  const sent = () => (anthropic().lastCreated?.requests ?? []).map((request) => request.params as Json);
  const run = async (jobId: string, requests: BatchRequest[]): Promise<BatchResult[]> => {
    const client = harness.client();
    await client.submitBatch({ requests, jobId, provider: "anthropic" });
    harness.clock.advance(ENOUGH_TIME_MS);
    return client.retrieveBatchResults(jobId);
  };
  const refused = async (request: Partial<BatchRequest>, message: RegExp, code = "unsupported_feature") => {
    const calls = harness.emulator.requestLog.length;
    const error = await harness
      .client()
      .submitBatch({
        requests: [
          { id: "fine", model: MODEL, prompt: "ok" },
          { id: "odd", model: MODEL, prompt: "x", ...request },
        ],
        jobId: "refused",
        provider: "anthropic",
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    expect(harness.emulator.requestLog.length).toBe(calls);
  };

  it("asks for structured output by output_config.format, and checks each answer into json or invalid_output", async () => {
    const requests: BatchRequest[] = ["good", "offschema", "badjson"].map((id) => ({
      id,
      model: MODEL,
      prompt: id === "good" ? "Who is Ada?" : `Who is Ada? [emulator:${id}]`,
      responseFormat: personFormat,
    }));
    const results = await run("structured", requests);

    // Constraints structured outputs do not take are written into descriptions; objects are closed.
    expect(sent()[0]?.output_config).toEqual({
      format: {
        type: "json_schema",
        schema: {
          type: "object",
          properties: {
            name: { type: "string", description: "{minLength: 2}" },
            age: { type: "integer", description: "{minimum: 0, maximum: 120}" },
            tags: { type: "array", items: { type: "string" }, minItems: 1 },
          },
          required: ["name", "age", "tags"],
          additionalProperties: false,
        },
      },
    });
    expect(sent()[0]?.tools).toBeUndefined();

    const [good, offschema, badjson] = results;
    expect(good).toMatchObject({ status: "succeeded", finishReason: "stop" });
    expect(good?.json).toEqual(JSON.parse(good?.text ?? ""));
    expect(person.required.every((key) => key in ((good?.json ?? {}) as Json))).toBe(true);
    expect(offschema).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });
    expect(offschema?.error?.message).toContain("name");
    expect(badjson).toMatchObject({ status: "invalid_output", error: { code: "invalid_json" } });
    expect(badjson?.text).toBe('{"unfinished": ');
  });

  it("retries exactly the invalid_output results, and the retry succeeds", async () => {
    const client = harness.client();
    const schema = z.object({ label: z.enum(["spam", "ham"]), score: z.number() });
    const requests: BatchRequest[] = ["m1", "m2", "m3"].map((id) => ({
      id,
      model: MODEL,
      prompt: `Classify message ${id}.`,
      responseFormat: schema,
    }));
    anthropic().outputs.once("m2", "badjson");
    await client.submitBatch({ requests, jobId: "labels", provider: "anthropic" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const first = await client.retrieveBatchResults("labels");
    expect(first.map((result) => result.status)).toEqual(["succeeded", "invalid_output", "succeeded"]);

    const retry = await client.retryFailed("labels");
    expect(retry.nRequests).toBe(1);
    expect(anthropic().lastCreated?.requests.map((request) => request.custom_id)).toEqual(["m2"]);
    harness.clock.advance(ENOUGH_TIME_MS);
    const merged = await client.retrieveBatchResults("labels", { merged: true });
    expect(merged.map((result) => [result.id, result.status, result.attempt?.number])).toEqual([
      ["m1", "succeeded", 0],
      ["m2", "succeeded", 1],
      ["m3", "succeeded", 0],
    ]);
    expect(schema.safeParse(merged[1]?.json).success).toBe(true);
  });

  it("asks for a non-strict format by a forced tool, whose input is the answer", async () => {
    const [result] = await run("forced", [
      { id: "f1", model: MODEL, prompt: "Who is Ada?", responseFormat: { ...personFormat, strict: false } },
    ]);
    expect(sent()[0]).toMatchObject({
      tools: [{ name: "person", input_schema: person }],
      tool_choice: { type: "tool", name: "person" },
    });
    expect(sent()[0]?.output_config).toBeUndefined();
    expect(result).toMatchObject({ status: "succeeded", finishReason: "tool_calls" });
    expect(result?.toolCalls?.[0]?.name).toBe("person");
    expect(result?.json).toEqual(result?.toolCalls?.[0]?.arguments);

    await refused(
      { responseFormat: { ...personFormat, strict: false }, toolChoice: "auto", tools: [weather] },
      /toolChoice/,
    );
    await refused(
      { responseFormat: { ...personFormat, strict: false }, reasoningEffort: "low" },
      /forced tool/,
    );
    await refused(
      { responseFormat: { type: "json_schema", name: "list", schema: { type: "array", items: {} } } },
      /object schema/,
    );
  });

  it("sends tools and each tool choice, and returns the calls with parsed arguments", async () => {
    const results = await run("tools", [
      { id: "auto", model: MODEL, prompt: "Weather in Paris?", tools: [weather] },
      {
        id: "marked",
        model: MODEL,
        prompt: "Weather in Paris? [emulator:tool]",
        tools: [weather],
        toolChoice: "auto",
      },
      { id: "any", model: MODEL, prompt: "Weather?", tools: [weather], toolChoice: "required" },
      {
        id: "named",
        model: MODEL,
        prompt: "Weather?",
        tools: [weather],
        toolChoice: { name: "get_weather" },
      },
      { id: "none", model: MODEL, prompt: "Weather? [emulator:tool]", tools: [weather], toolChoice: "none" },
    ]);
    expect(sent().map((params) => params.tool_choice)).toEqual([
      undefined,
      { type: "auto" },
      { type: "any" },
      { type: "tool", name: "get_weather" },
      { type: "none" },
    ]);
    expect(sent()[0]?.tools).toEqual([
      { name: "get_weather", description: "The weather in a city.", input_schema: weather.parameters },
    ]);
    expect(results.map((result) => result.finishReason)).toEqual([
      "stop",
      "tool_calls",
      "tool_calls",
      "tool_calls",
      "stop",
    ]);
    for (const result of results.slice(1, 4)) {
      const [call] = result.toolCalls ?? [];
      expect(call).toMatchObject({ name: "get_weather", id: expect.stringMatching(/^toolu_/) });
      expect(typeof (call?.arguments as Json | undefined)?.city).toBe("string");
    }
    expect(results[0]?.toolCalls).toBeUndefined();
    expect(results[4]?.toolCalls).toBeUndefined();
  });

  it("sends images as base64 and URL sources, and refuses types Anthropic does not read", async () => {
    const results = await run("images", [
      {
        id: "img",
        model: MODEL,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these?" },
              { type: "image", data: PNG, mediaType: "image/png" },
              { type: "image", url: "https://example.com/cat.jpg" },
              { type: "image", url: `data:image/webp;base64,${PNG}` },
            ],
          },
        ],
      },
    ]);
    expect((sent()[0]?.messages as Json[] | undefined)?.[0]?.content).toEqual([
      { type: "text", text: "What is in these?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      { type: "image", source: { type: "base64", media_type: "image/webp", data: PNG } },
    ]);
    expect(results[0]?.status).toBe("succeeded");
    // Three images cost more prompt tokens than the text alone.
    expect(results[0]?.usage?.inputTokens).toBeGreaterThan(3 * 1000);
    await refused(
      { messages: [{ role: "user", content: [{ type: "image", data: PNG, mediaType: "image/bmp" }] }] },
      /JPEG, PNG, GIF or WebP/,
    );
  });

  it("fails a malformed native shape passed through providerArgs when the batch runs, as Anthropic does", async () => {
    const results = await run("native", [
      { id: "ok", model: MODEL, prompt: "Hi" },
      {
        id: "bad-image",
        model: MODEL,
        prompt: "x",
        providerArgs: {
          messages: [
            {
              role: "user",
              content: [{ type: "image", source: { type: "base64", media_type: "image/bmp", data: "AAAA" } }],
            },
          ],
        },
      },
      {
        id: "bad-schema",
        model: MODEL,
        prompt: "x",
        providerArgs: {
          output_config: { format: { type: "json_schema", schema: { type: "object", properties: {} } } },
        },
      },
      {
        id: "bad-choice",
        model: MODEL,
        prompt: "x",
        providerArgs: { tool_choice: { type: "tool", name: "nope" } },
      },
    ]);
    expect(results.map((result) => result.status)).toEqual(["succeeded", "failed", "failed", "failed"]);
    expect(results[1]?.error?.message).toContain("media_type");
    expect(results[2]?.error?.message).toContain("additionalProperties");
    expect(results[3]?.error?.message).toContain("tool_choice");
  });

  it("maps temperature, topP and stopSequences, refuses seed, and refuses what the API refuses", async () => {
    const results = await run("options", [
      { id: "t", model: MODEL, prompt: "Say: one two three", temperature: 0.3, stopSequences: ["two"] },
      { id: "p", model: MODEL, prompt: "Hi", topP: 0.9 },
    ]);
    expect(sent()[0]).toMatchObject({ temperature: 0.3, stop_sequences: ["two"] });
    expect(sent()[1]).toMatchObject({ top_p: 0.9 });
    expect(sent()[1]?.temperature).toBeUndefined();
    expect(results[0]?.text).not.toContain("two");
    expect(results[0]?.finishReason).toBe("stop");
    expect((results[0]?.raw as { result: { message: Json } } | undefined)?.result.message.stop_reason).toBe(
      "stop_sequence",
    );
    await refused({ seed: 7 }, /seed/);
    await refused({ temperature: 1.5 }, /temperature from 0 to 1/);
    await refused({ temperature: 0.5, topP: 0.9 }, /not both/);
  });

  it("maps reasoningEffort to a thinking budget by the documented table, within max_tokens", async () => {
    const results = await run("thinking", [
      { id: "low", model: MODEL, prompt: "Think.", reasoningEffort: "low" },
      { id: "high", model: MODEL, prompt: "Think.", reasoningEffort: "high", maxTokens: 8000 },
    ]);
    expect(sent()[0]).toMatchObject({
      thinking: { type: "enabled", budget_tokens: THINKING_BUDGETS.low },
      max_tokens: DEFAULT_MAX_TOKENS + THINKING_BUDGETS.low,
    });
    // maxTokens bounds thinking and answer together: the budget leaves 1024 tokens for the answer.
    expect(sent()[1]).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 8000 - 1024 },
      max_tokens: 8000,
    });
    for (const result of results) {
      expect(result.status).toBe("succeeded");
      expect(result.usage?.reasoningTokens).toBeGreaterThan(0);
      expect(result.usage?.outputTokens).toBeGreaterThan(result.usage?.reasoningTokens ?? 0);
    }
    await refused({ reasoningEffort: "low", maxTokens: 1500 }, /maxTokens of at least 2048/, "invalid_input");
    await refused({ reasoningEffort: "low", temperature: 0.5 }, /temperature/);
    await refused({ reasoningEffort: "low", tools: [weather], toolChoice: "required" }, /forced tool/);
  });

  it("marks the system prompt for the cache: one write, then reads, priced at the cache rates", async () => {
    const client = harness.client();
    const system = `You are a careful assistant. ${"Follow the house style. ".repeat(250)}`;
    const requests: BatchRequest[] = ["c1", "c2", "c3"].map((id) => ({
      id,
      model: MODEL,
      systemPrompt: system,
      prompt: `Question ${id}`,
      cacheSystemPrompt: true,
    }));
    await client.submitBatch({ requests, jobId: "cached", provider: "anthropic" });
    expect(sent()[0]?.system).toEqual([{ type: "text", text: system, cache_control: { type: "ephemeral" } }]);
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("cached");
    const systemTokens = Math.ceil(system.length / 4);
    expect(results.map((result) => result.usage?.cacheWriteInputTokens ?? 0)).toEqual([systemTokens, 0, 0]);
    expect(results.map((result) => result.usage?.cachedInputTokens)).toEqual([0, systemTokens, systemTokens]);
    for (const result of results) {
      const raw = (result.raw as { result: { message: { usage: Json } } }).result.message.usage;
      expect(result.usage?.inputTokens).toBe(
        (raw.input_tokens as number) +
          (raw.cache_read_input_tokens as number) +
          (raw.cache_creation_input_tokens as number),
      );
    }

    // claude-sonnet-4-5: $3/M uncached input, $3.75/M cache writes, $0.30/M cache reads, $15/M output; half price.
    const sum = (pick: (result: BatchResult) => number) =>
      results.reduce((total, result) => total + pick(result), 0);
    const written = sum((result) => result.usage?.cacheWriteInputTokens ?? 0);
    const read = sum((result) => result.usage?.cachedInputTokens ?? 0);
    const uncached = sum((result) => result.usage?.inputTokens ?? 0) - written - read;
    const output = sum((result) => result.usage?.outputTokens ?? 0);
    const cost = await client.jobCost("cached");
    expect(cost.costUsd).toBeCloseTo(
      ((uncached * 3 + written * 3.75 + read * 0.3 + output * 15) / 1e6) * 0.5,
      12,
    );
  });

  it("refuses embeddings jobs before anything is sent", async () => {
    const error = await harness
      .client()
      .submitBatch({
        kind: "embeddings",
        requests: [{ id: "e", model: MODEL, input: "x" }],
        jobId: "emb",
        provider: "anthropic",
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("unsupported_feature");
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("refuses a batch's sampling parameters under API version 2026-10-21, as the API does", async () => {
    const response = await fetch(`${harness.emulator.baseURL("anthropic")}/v1/messages/batches`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2026-10-21" },
      body: JSON.stringify({
        requests: [
          {
            custom_id: "a",
            params: {
              model: MODEL,
              max_tokens: 10,
              messages: [{ role: "user", content: "hi" }],
              temperature: 0.5,
            },
          },
          {
            custom_id: "b",
            params: { model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "hi" }] },
          },
        ],
      }),
    });
    const batch = (await response.json()) as { id: string };
    harness.clock.advance(ENOUGH_TIME_MS);
    const lines = (
      await (
        await fetch(`${harness.emulator.baseURL("anthropic")}/v1/messages/batches/${batch.id}/results`, {
          headers: { "x-api-key": "k", "anthropic-version": "2026-10-21" },
        })
      ).text()
    )
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { custom_id: string; result: Json });
    const byId = new Map(lines.map((line) => [line.custom_id, line.result]));
    expect(byId.get("a")).toMatchObject({
      type: "errored",
      error: { error: { message: "temperature: Extra inputs are not permitted" } },
    });
    expect(byId.get("b")?.type).toBe("succeeded");
  });
});
