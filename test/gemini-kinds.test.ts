import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../src/index.js";
import { THINKING_BUDGETS } from "../src/providers/gemini/generation.js";
import type { BatchRequest, BatchResult, EmbeddingRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, type Harness, startHarness } from "./support/harness.js";

const MODEL = "gemini-2.5-flash";
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==";

type Json = Record<string, unknown>;

const article = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    title: { type: "string", description: "The headline." },
    words: { type: "integer", minimum: 1, exclusiveMaximum: 10_000 },
    author: { $ref: "#/$defs/author" },
    kind: { enum: ["news", "opinion"] },
    subtitle: { type: ["string", "null"] },
    tags: { type: "array", items: { type: "string" }, maxItems: 5 },
  },
  required: ["title", "words", "author", "kind"],
  additionalProperties: false,
  $defs: {
    author: {
      type: "object",
      properties: {
        name: { type: "string" },
        email: { anyOf: [{ type: "string", format: "email" }, { type: "null" }] },
      },
      required: ["name"],
    },
  },
};
const weather = {
  name: "get_weather",
  description: "The weather in a city.",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe("Gemini: every kind of request, through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  const gemini = () => harness.emulator.providers.gemini;
  /** The GenerateContentRequests of the last inline create call. */
  const sent = () =>
    (
      gemini().lastCreateBody as { batch: { inputConfig: { requests: { requests: { request: Json }[] } } } }
    ).batch.inputConfig.requests.requests.map((entry) => entry.request);
  const run = async (jobId: string, requests: BatchRequest[]): Promise<BatchResult[]> => {
    const client = harness.client();
    await client.submitBatch({ requests, jobId, provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    return client.retrieveBatchResults(jobId);
  };
  const refused = async (request: Partial<BatchRequest>, message: RegExp) => {
    const calls = harness.emulator.requestLog.length;
    const error = await harness
      .client()
      .submitBatch({
        requests: [
          { id: "fine", model: MODEL, prompt: "ok" },
          { id: "odd", model: MODEL, prompt: "x", ...request },
        ],
        jobId: "refused",
        provider: "gemini",
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("unsupported_feature");
    expect((error as Error).message).toMatch(message);
    expect(harness.emulator.requestLog.length).toBe(calls);
  };

  it("sends structured output as responseSchema, Gemini's Schema converted from JSON Schema, and checks the answers", async () => {
    const format = { type: "json_schema" as const, name: "article", schema: article };
    const results = await run("structured", [
      { id: "good", model: MODEL, prompt: "Summarise the news.", responseFormat: format },
      { id: "off", model: MODEL, prompt: "Summarise. [emulator:offschema]", responseFormat: format },
    ]);
    const config = sent()[0]?.generationConfig as Json;
    expect(config.responseMimeType).toBe("application/json");
    expect(config.responseJsonSchema).toBeUndefined();
    expect(config.responseSchema).toEqual({
      type: "OBJECT",
      properties: {
        title: { type: "STRING", description: "The headline." },
        words: { type: "INTEGER", minimum: 1 },
        author: {
          type: "OBJECT",
          properties: {
            name: { type: "STRING" },
            email: { type: "STRING", format: "email", nullable: true },
          },
          propertyOrdering: ["name", "email"],
          required: ["name"],
        },
        kind: { type: "STRING", enum: ["news", "opinion"], format: "enum" },
        subtitle: { type: "STRING", nullable: true },
        tags: { type: "ARRAY", items: { type: "STRING" }, maxItems: "5" },
      },
      propertyOrdering: ["title", "words", "author", "kind", "subtitle", "tags"],
      required: ["title", "words", "author", "kind"],
    });
    const [good, off] = results;
    expect(good?.status).toBe("succeeded");
    // The answer's keys come in propertyOrdering.
    expect(Object.keys(good?.json as Json)).toEqual(["title", "words", "author", "kind", "subtitle", "tags"]);
    expect(off).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });

    await refused(
      {
        responseFormat: {
          type: "json_schema",
          name: "tree",
          schema: { type: "object", properties: { child: { $ref: "#" } }, $defs: {} },
        },
      },
      /recursive schema/,
    );
    await refused(
      {
        responseFormat: {
          type: "json_schema",
          name: "free",
          schema: { type: "object", properties: { any: {} } },
        },
      },
      /without a type/,
    );
  });

  it("retries exactly the invalid_output results, and the retry succeeds", async () => {
    const client = harness.client();
    const schema = z.object({ label: z.enum(["spam", "ham"]), score: z.number() });
    const requests: BatchRequest[] = ["g1", "g2"].map((id) => ({
      id,
      model: MODEL,
      prompt: `Classify ${id}.`,
      responseFormat: schema,
    }));
    gemini().outputs.once("g1", "badjson");
    await client.submitBatch({ requests, jobId: "labels", provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const first = await client.retrieveBatchResults("labels");
    expect(first.map((result) => [result.status, result.error?.code])).toEqual([
      ["invalid_output", "invalid_json"],
      ["succeeded", undefined],
    ]);
    await client.retryFailed("labels", { statuses: ["invalid_output"] });
    expect(sent()).toHaveLength(1);
    harness.clock.advance(ENOUGH_TIME_MS);
    const merged = await client.retrieveBatchResults("labels", { merged: true });
    expect(merged.map((result) => result.status)).toEqual(["succeeded", "succeeded"]);
    expect(schema.safeParse(merged[0]?.json).success).toBe(true);
  });

  it("sends tools as functionDeclarations with each calling mode, and returns function calls as tool calls", async () => {
    const noArgs = { name: "now", parameters: { type: "object", properties: {} } };
    const results = await run("tools", [
      { id: "auto", model: MODEL, prompt: "Weather? [emulator:tool]", tools: [weather, noArgs] },
      { id: "any", model: MODEL, prompt: "Weather?", tools: [weather, noArgs], toolChoice: "required" },
      { id: "named", model: MODEL, prompt: "Time?", tools: [weather, noArgs], toolChoice: { name: "now" } },
      { id: "none", model: MODEL, prompt: "Weather? [emulator:tool]", tools: [weather], toolChoice: "none" },
    ]);
    expect(sent()[0]?.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "get_weather",
            description: "The weather in a city.",
            parameters: {
              type: "OBJECT",
              properties: { city: { type: "STRING" } },
              propertyOrdering: ["city"],
              required: ["city"],
            },
          },
          { name: "now" },
        ],
      },
    ]);
    expect(sent().map((request) => request.toolConfig)).toEqual([
      undefined,
      { functionCallingConfig: { mode: "ANY" } },
      { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["now"] } },
      { functionCallingConfig: { mode: "NONE" } },
    ]);
    expect(results.map((result) => result.toolCalls?.map((call) => call.name))).toEqual([
      ["get_weather"],
      ["get_weather"],
      ["now"],
      undefined,
    ]);
    expect(results.map((result) => result.finishReason)).toEqual([
      "tool_calls",
      "tool_calls",
      "tool_calls",
      "stop",
    ]);
    expect(typeof (results[0]?.toolCalls?.[0]?.arguments as Json | undefined)?.city).toBe("string");

    await refused({ tools: [{ ...weather, name: "1st" }] }, /start with a letter/);
    await refused(
      { tools: [weather], responseFormat: { type: "json_schema", name: "x", schema: article } },
      /cannot combine tools/,
    );
  });

  it("sends images as inlineData, counts their tokens, and refuses images by URL", async () => {
    const results = await run("images", [
      {
        id: "img",
        model: MODEL,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Describe both." },
              { type: "image", data: PNG, mediaType: "image/png" },
              { type: "image", url: `data:image/jpeg;base64,${PNG}` },
            ],
          },
        ],
      },
    ]);
    expect(sent()[0]?.contents).toEqual([
      {
        role: "user",
        parts: [
          { text: "Describe both." },
          { inlineData: { mimeType: "image/png", data: PNG } },
          { inlineData: { mimeType: "image/jpeg", data: PNG } },
        ],
      },
    ]);
    expect(results[0]?.usage?.imageInputTokens).toBe(2 * 258);
    expect(results[0]?.usage?.inputTokens).toBeGreaterThan(2 * 258);
    await refused(
      { messages: [{ role: "user", content: [{ type: "image", url: "https://example.com/a.png" }] }] },
      /images by URL/,
    );
    await refused(
      { messages: [{ role: "user", content: [{ type: "image", data: PNG, mediaType: "image/gif" }] }] },
      /PNG, JPEG, WebP/,
    );
  });

  it("maps temperature, topP, stopSequences and seed into generationConfig, the caller's own settings winning", async () => {
    const results = await run("options", [
      {
        id: "o",
        model: MODEL,
        prompt: "Say one two three",
        temperature: 0.4,
        topP: 0.8,
        stopSequences: ["two"],
        seed: 42,
        maxTokens: 200,
        cacheSystemPrompt: true,
        systemPrompt: "Be brief.",
        providerArgs: { generation_config: { top_k: 5, temperature: 0.9 } },
      },
    ]);
    // The caller spelled generation_config in snake_case: Relay's settings go there too, the caller's temperature wins.
    expect(sent()[0]?.generation_config).toEqual({
      maxOutputTokens: 200,
      topP: 0.8,
      stopSequences: ["two"],
      seed: 42,
      top_k: 5,
      temperature: 0.9,
    });
    // cacheSystemPrompt is a no-op: Gemini caches repeated prefixes by itself.
    expect(sent()[0]?.systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
    expect(results[0]?.status).toBe("succeeded");
    expect(results[0]?.text).not.toContain("two");
    await refused({ stopSequences: ["a", "b", "c", "d", "e", "f"] }, /at most 5/);
  });

  it("maps reasoningEffort to thinkingBudget on Gemini 2.5 and thinkingLevel on Gemini 3, counting thoughts as output", async () => {
    const client = harness.client();
    const cases: [string, "minimal" | "medium" | "high", Json][] = [
      [MODEL, "medium", { thinkingBudget: THINKING_BUDGETS.medium }],
      ["gemini-3-flash", "minimal", { thinkingLevel: "MINIMAL" }],
      // MEDIUM is not one of Gemini 3 Pro's levels: it goes as HIGH.
      ["gemini-3-pro", "medium", { thinkingLevel: "HIGH" }],
    ];
    for (const [index, [model, effort, thinkingConfig]] of cases.entries()) {
      const jobId = `thinking-${index}`;
      await client.submitBatch({
        requests: [{ id: "t", model, prompt: "Think hard.", reasoningEffort: effort }],
        jobId,
        provider: "gemini",
      });
      expect(sent()[0]?.generationConfig).toEqual({ thinkingConfig });
      harness.clock.advance(ENOUGH_TIME_MS);
      const [result] = await client.retrieveBatchResults(jobId);
      const usage = ((result?.raw as { response: { usageMetadata: Json } } | undefined)?.response
        .usageMetadata ?? {}) as Json;
      expect(result?.status).toBe("succeeded");
      expect(usage.thoughtsTokenCount).toBeGreaterThan(0);
      expect(result?.usage?.reasoningTokens).toBe(usage.thoughtsTokenCount);
      // Thoughts are billed as output: Relay counts them in outputTokens.
      expect(result?.usage?.outputTokens).toBe(
        (usage.candidatesTokenCount as number) + (usage.thoughtsTokenCount as number),
      );
    }
    await refused({ reasoningEffort: "low", model: "gemini-2.0-flash" }, /does not think/);
  });

  it("counts an implicitly cached system instruction as cached input, priced at the cache rate", async () => {
    const client = harness.client();
    const system = `House rules. ${"Answer in the house style. ".repeat(200)}`;
    const requests: BatchRequest[] = ["c1", "c2"].map((id) => ({
      id,
      model: MODEL,
      systemPrompt: system,
      prompt: id,
    }));
    await client.submitBatch({ requests, jobId: "cached", provider: "gemini" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("cached");
    const systemTokens = Math.ceil(system.length / 4);
    expect(results.map((result) => result.usage?.cachedInputTokens)).toEqual([undefined, systemTokens]);
    const input = results.reduce((sum, result) => sum + (result.usage?.inputTokens ?? 0), 0);
    const output = results.reduce((sum, result) => sum + (result.usage?.outputTokens ?? 0), 0);
    // gemini-2.5-flash: $0.30/M input, $0.03/M cached input, $2.50/M output; half price in batches.
    const cost = await client.jobCost("cached");
    expect(cost.costUsd).toBeCloseTo(
      (((input - systemTokens) * 0.3 + systemTokens * 0.03 + output * 2.5) / 1e6) * 0.5,
      12,
    );
  });

  it("embeds texts with asyncBatchEmbedContent from an uploaded file: vectors, usage and cost, raw without the values", async () => {
    const client = harness.client();
    const requests: EmbeddingRequest[] = [
      { id: "e1", model: "gemini-embedding-001", input: "The first text." },
      { id: "e2", model: "gemini-embedding-001", input: "The second text.", dimensions: 768 },
      { id: "e3", model: "gemini-embedding-001", input: "The third text." },
    ];
    harness.emulator.setFate("e3", "fail");
    await client.submitBatch({ kind: "embeddings", requests, jobId: "vectors", provider: "gemini" });
    const log = harness.emulator.requestLog.map((entry) => `${entry.method} ${entry.path}`);
    expect(log.some((entry) => entry.startsWith("POST /gemini/upload/v1beta/files"))).toBe(true);
    expect(log).toContain("POST /gemini/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent");
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("vectors");
    const [first, second, failed] = results;
    expect(first?.status).toBe("succeeded");
    expect(first?.embedding).toHaveLength(3072);
    expect(second?.embedding).toHaveLength(768);
    const norm = Math.sqrt((second?.embedding ?? []).reduce((sum, value) => sum + value * value, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(first?.usage).toEqual({ inputTokens: 4, outputTokens: 0, totalTokens: 4 });
    expect(failed?.status).toBe("failed");
    // raw is the provider's record without the vector, which `embedding` holds.
    expect(first?.raw).toEqual({ key: "e1", response: { embedding: {}, tokenCount: "4" } });
    expect(JSON.stringify(results).length).toBeLessThan(3 * (3072 + 768) * 13);
    // gemini-embedding-001: $0.15/M input tokens, half price in batches.
    const cost = await client.jobCost("vectors");
    expect(cost.costUsd).toBeCloseTo(((4 + 4) * 0.15 * 0.5) / 1e6, 15);

    // The failed text is embedded again by an embeddings job of its own.
    harness.emulator.setFate("e3", "succeed");
    await client.retryFailed("vectors");
    expect(harness.emulator.requestLog.at(-1)?.path).toBe(
      "/gemini/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent",
    );
    harness.clock.advance(ENOUGH_TIME_MS);
    const merged = await client.retrieveBatchResults("vectors", { merged: true });
    expect(merged.map((result) => [result.status, result.embedding?.length])).toEqual([
      ["succeeded", 3072],
      ["succeeded", 768],
      ["succeeded", 3072],
    ]);
  });

  it("refuses an embedding model for chat, and a chat model for embeddings, at the emulator as Gemini does", async () => {
    const client = harness.client();
    await client
      .submitBatch({
        requests: [{ id: "x", model: "gemini-embedding-001", prompt: "hi" }],
        jobId: "chat",
        provider: "gemini",
      })
      .catch(() => undefined);
    await client
      .submitBatch({
        kind: "embeddings",
        requests: [{ id: "x", model: MODEL, input: "hi" }],
        jobId: "emb",
        provider: "gemini",
      })
      .catch(() => undefined);
    const created = harness.emulator.requestLog.filter((entry) =>
      /:(batchGenerateContent|asyncBatchEmbedContent)$/.test(entry.path),
    );
    expect(created.map((entry) => entry.status)).toEqual([404, 404]);
  });

  it("refuses a JSON Schema sent as it is as responseSchema, as the API's parser does", async () => {
    const client = harness.client();
    const withSchema = (id: string, responseSchema: unknown): BatchRequest => ({
      id,
      model: MODEL,
      prompt: "x",
      providerArgs: { generationConfig: { responseMimeType: "application/json", responseSchema } },
    });
    const where = "batch.input_config.requests.requests[0].request.generation_config.response_schema";
    await expect(
      client.submitBatch({ requests: [withSchema("raw", article)], jobId: "raw", provider: "gemini" }),
    ).rejects.toThrow(`Unknown name "$schema" at '${where}'`);
    const lowercase = { type: "object", properties: { a: { type: "string" } } };
    await expect(
      client.submitBatch({ requests: [withSchema("lower", lowercase)], jobId: "lower", provider: "gemini" }),
    ).rejects.toThrow(`Invalid value at '${where}.type'`);
    const empty = { type: "OBJECT", properties: {} };
    await expect(
      client.submitBatch({ requests: [withSchema("empty", empty)], jobId: "empty", provider: "gemini" }),
    ).rejects.toThrow("properties: should be non-empty for OBJECT type");
  });
});
