import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BatchRequest, EmbeddingRequest } from "../src/index.js";
import { type Harness, startHarness } from "./support/harness.js";
import { byId, LABEL_SCHEMA, PIXEL_PNG, resultsOf, sentBodies, WEATHER_TOOL } from "./support/kinds.js";

const MODEL = "gpt-4o-mini";
const label = { type: "json_schema" as const, name: "label", schema: LABEL_SCHEMA };

describe("OpenAI request kinds through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("structured output: response_format json_schema, answers parsed into json; invalid output retried to success", async () => {
    const client = harness.client();
    const zodLabel = z.object({ label: z.enum(["spam", "ham"]), score: z.number().min(0).max(1) });
    const requests: BatchRequest[] = [
      { id: "a", model: MODEL, prompt: "Buy now!!!", responseFormat: label },
      { id: "b", model: MODEL, prompt: "See you at lunch", responseFormat: label },
      { id: "c", model: MODEL, prompt: "Lunch?", responseFormat: zodLabel },
      { id: "d", model: MODEL, prompt: "Unparsable please", responseFormat: label },
    ];
    harness.emulator.setFate("b", "offschema");
    harness.emulator.setFate("d", "badjson");
    await client.submitBatch({ requests, jobId: "so", provider: "openai" });
    const sent = sentBodies(harness, "openai");
    expect(sent.get("a")?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "label", schema: LABEL_SCHEMA, strict: true },
    });
    // zod's own JSON Schema export, under the default name.
    expect(sent.get("c")?.response_format).toMatchObject({
      type: "json_schema",
      json_schema: {
        name: "response",
        strict: true,
        schema: { type: "object", required: ["label", "score"] },
      },
    });

    const results = byId(await resultsOf(harness, client, "so"));
    const a = results.get("a");
    expect(a?.status).toBe("succeeded");
    expect(a?.json).toEqual(JSON.parse(a?.text ?? ""));
    expect(a?.json).toMatchObject({ label: expect.stringMatching(/^(spam|ham)$/) });
    expect(zodLabel.safeParse(results.get("c")?.json).success).toBe(true);
    expect(results.get("b")).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });
    expect(results.get("d")).toMatchObject({ status: "invalid_output", error: { code: "invalid_json" } });
    expect(results.get("d")?.text).toBe('{"unfinished": ');

    // The provider answers well the second time: retryFailed runs exactly the invalid ones, checked again.
    harness.emulator.setFate("b", "succeed");
    harness.emulator.setFate("d", "succeed");
    const retry = await client.retryFailed("so");
    expect(retry.nRequests).toBe(2);
    await resultsOf(harness, client, retry.jobId);
    const merged = await client.retrieveBatchResults("so", { merged: true });
    expect(merged.map((result) => [result.id, result.status])).toEqual([
      ["a", "succeeded"],
      ["b", "succeeded"],
      ["c", "succeeded"],
      ["d", "succeeded"],
    ]);
    expect(merged[1]?.json).toMatchObject({ label: expect.any(String), reasons: expect.any(Array) });
  });

  it("structured output on the Responses API goes in text.format, and the answer is checked alike", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [
        { id: "r", model: MODEL, systemPrompt: "Classify.", prompt: "Win a prize", responseFormat: label },
      ],
      jobId: "so-responses",
      provider: "openai",
      endpoint: "/v1/responses",
    });
    const body = sentBodies(harness, "openai").get("r");
    expect(body?.text).toEqual({
      format: { type: "json_schema", name: "label", schema: LABEL_SCHEMA, strict: true },
    });
    expect(body?.instructions).toBe("Classify.");
    const [result] = await resultsOf(harness, client, "so-responses");
    expect(result?.status).toBe("succeeded");
    expect(result?.json).toMatchObject({ label: expect.stringMatching(/spam|ham/) });
  });

  it("refuses, before sending, a schema strict mode cannot take; strict: false sends it", async () => {
    const client = harness.client();
    const loose = {
      type: "object",
      properties: { name: { type: "string" }, age: { type: "integer" } },
      required: ["name"],
    };
    await expect(
      client.submitBatch({
        requests: [
          {
            id: "x",
            model: MODEL,
            prompt: "p",
            responseFormat: { type: "json_schema", name: "p", schema: loose },
          },
        ],
        jobId: "strict",
        provider: "openai",
      }),
    ).rejects.toMatchObject({
      code: "unsupported_feature",
      message: expect.stringContaining("additionalProperties"),
    });
    expect(harness.emulator.batchCount("openai")).toBe(0);
    await client.submitBatch({
      requests: [
        {
          id: "x",
          model: MODEL,
          prompt: "p",
          responseFormat: { type: "json_schema", name: "p", schema: loose, strict: false },
        },
      ],
      jobId: "loose",
      provider: "openai",
    });
    const [result] = await resultsOf(harness, client, "loose");
    expect(result?.json).toMatchObject({ name: expect.any(String), age: expect.any(Number) });
  });

  it("tool calls: tools and tool_choice sent natively, calls parsed with their arguments, finishReason tool_calls", async () => {
    const client = harness.client();
    const tools = [WEATHER_TOOL, { name: "noop", parameters: { type: "object", properties: {} } }];
    const requests: BatchRequest[] = [
      { id: "forced", model: MODEL, prompt: "Weather in Paris?", tools, toolChoice: { name: "get_weather" } },
      { id: "auto-call", model: MODEL, prompt: "Weather? [emulator:tool]", tools },
      { id: "auto-text", model: MODEL, prompt: "Just talk.", tools, toolChoice: "auto" },
      { id: "required", model: MODEL, prompt: "Use a tool.", tools, toolChoice: "required" },
    ];
    await client.submitBatch({ requests, jobId: "tools", provider: "openai" });
    const sent = sentBodies(harness, "openai").get("forced");
    expect(sent?.tools).toEqual([
      { type: "function", function: WEATHER_TOOL },
      { type: "function", function: { name: "noop", parameters: { type: "object", properties: {} } } },
    ]);
    expect(sent?.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    const results = byId(await resultsOf(harness, client, "tools"));
    for (const id of ["forced", "auto-call", "required"]) {
      const result = results.get(id);
      expect(result?.finishReason).toBe("tool_calls");
      expect(result?.toolCalls).toHaveLength(1);
      expect(result?.toolCalls?.[0]).toMatchObject({
        id: expect.stringMatching(/^call_/),
        name: "get_weather",
      });
      expect(result?.toolCalls?.[0]?.arguments).toMatchObject({
        city: expect.any(String),
        unit: expect.stringMatching(/^[cf]$/),
      });
    }
    expect(results.get("auto-text")).toMatchObject({ status: "succeeded", finishReason: "stop" });
    expect(results.get("auto-text")?.toolCalls).toBeUndefined();

    // The Responses API: flat function tools (with strict), calls as function_call output items.
    await client.submitBatch({
      requests: [{ id: "r", model: MODEL, prompt: "Weather?", tools, toolChoice: { name: "get_weather" } }],
      jobId: "tools-responses",
      provider: "openai",
      endpoint: "/v1/responses",
    });
    const body = sentBodies(harness, "openai").get("r");
    expect(body?.tools).toContainEqual({ type: "function", ...WEATHER_TOOL, strict: false });
    expect(body?.tool_choice).toEqual({ type: "function", name: "get_weather" });
    const [called] = await resultsOf(harness, client, "tools-responses");
    expect(called).toMatchObject({ finishReason: "tool_calls", toolCalls: [{ name: "get_weather" }] });
  });

  it("images by data and by URL become image_url parts (input_image on the Responses API) and count as input", async () => {
    const client = harness.client();
    const content = [
      { type: "text" as const, text: "What is in these?" },
      { type: "image" as const, data: PIXEL_PNG, mediaType: "image/png" },
      { type: "image" as const, url: "https://example.com/cat.jpg" },
    ];
    await client.submitBatch({
      requests: [
        { id: "img", model: MODEL, messages: [{ role: "user", content }] },
        { id: "text", model: MODEL, messages: [{ role: "user", content: "What is in these?" }] },
      ],
      jobId: "images",
      provider: "openai",
    });
    expect(sentBodies(harness, "openai").get("img")?.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "What is in these?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL_PNG}` } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
    const results = byId(await resultsOf(harness, client, "images"));
    expect(results.get("img")?.status).toBe("succeeded");
    // Two images cost the emulator's 85 tokens each on top of the same text.
    const withImages = results.get("img")?.usage?.inputTokens ?? 0;
    expect(withImages - (results.get("text")?.usage?.inputTokens ?? 0)).toBe(170);

    await client.submitBatch({
      requests: [{ id: "img", model: MODEL, messages: [{ role: "user", content }] }],
      jobId: "images-responses",
      provider: "openai",
      endpoint: "/v1/responses",
    });
    expect(sentBodies(harness, "openai").get("img")?.input).toEqual([
      {
        role: "user",
        content: [
          { type: "input_text", text: "What is in these?" },
          { type: "input_image", image_url: `data:image/png;base64,${PIXEL_PNG}`, detail: "auto" },
          { type: "input_image", image_url: "https://example.com/cat.jpg", detail: "auto" },
        ],
      },
    ]);
    const [result] = await resultsOf(harness, client, "images-responses");
    expect(result?.status).toBe("succeeded");
  });

  it("common options: native names, reasoning and cached tokens in usage, priced; the Responses API refuses seed and stop", async () => {
    const client = harness.client();
    const request: BatchRequest = {
      id: "o",
      model: MODEL,
      systemPrompt: "You are a careful assistant.",
      prompt: "Think about it.",
      temperature: 0.3,
      topP: 0.9,
      stopSequences: ["\n\n", "END"],
      seed: 42,
      reasoningEffort: "low",
      cacheSystemPrompt: true,
      maxTokens: 300,
    };
    await client.submitBatch({ requests: [request], jobId: "options", provider: "openai" });
    const body = sentBodies(harness, "openai").get("o");
    expect(body).toMatchObject({
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n", "END"],
      seed: 42,
      reasoning_effort: "low",
      max_completion_tokens: 300,
      prompt_cache_key: expect.stringMatching(/^relay-[0-9a-f]{32}$/),
    });
    const [result] = await resultsOf(harness, client, "options");
    expect(result?.usage?.reasoningTokens).toBe(32);
    expect(result?.usage?.cachedInputTokens).toBeGreaterThan(0);
    const cost = await client.jobCost("options");
    expect(cost.costUsd).toBeGreaterThan(0);
    expect(cost.byModel[MODEL]?.cachedInputTokens).toBe(result?.usage?.cachedInputTokens);

    const responses = { provider: "openai" as const, endpoint: "/v1/responses" };
    await expect(
      client.submitBatch({
        requests: [{ id: "s", model: MODEL, prompt: "p", seed: 1 }],
        jobId: "seed",
        ...responses,
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining("seed") });
    await expect(
      client.submitBatch({
        requests: [{ id: "s", model: MODEL, prompt: "p", stopSequences: ["x"] }],
        jobId: "stop",
        ...responses,
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature" });
    await expect(
      client.submitBatch({
        requests: [{ id: "s", model: MODEL, prompt: "p", stopSequences: ["1", "2", "3", "4", "5"] }],
        jobId: "five-stops",
        provider: "openai",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining("at most 4") });
    await client.submitBatch({
      requests: [{ id: "e", model: MODEL, prompt: "p", reasoningEffort: "high", temperature: 1 }],
      jobId: "responses-options",
      ...responses,
    });
    expect(sentBodies(harness, "openai").get("e")).toMatchObject({
      reasoning: { effort: "high" },
      temperature: 1,
    });
  });

  it("embeddings: /v1/embeddings lines, vectors in embedding (not repeated in raw), input tokens priced", async () => {
    const client = harness.client();
    const requests: EmbeddingRequest[] = [
      { id: "e1", model: "text-embedding-3-small", input: "The quick brown fox" },
      { id: "e2", model: "text-embedding-3-small", input: "jumps over the lazy dog", dimensions: 256 },
    ];
    const job = await client.submitBatch({ kind: "embeddings", requests, jobId: "emb", provider: "openai" });
    expect(job.nRequests).toBe(2);
    const batch = [...harness.emulator.providers.openai.batches.values()][0];
    expect(batch?.endpoint).toBe("/v1/embeddings");
    expect(sentBodies(harness, "openai").get("e2")).toEqual({
      model: "text-embedding-3-small",
      input: "jumps over the lazy dog",
      dimensions: 256,
    });
    const results = byId(await resultsOf(harness, client, "emb"));
    const first = results.get("e1");
    expect(first?.status).toBe("succeeded");
    expect(first?.embedding).toHaveLength(1536);
    expect(results.get("e2")?.embedding).toHaveLength(256);
    const norm = Math.sqrt((first?.embedding ?? []).reduce((sum, value) => sum + value * value, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(first?.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: 0 });
    expect(first?.usage?.inputTokens).toBeGreaterThan(0);
    // raw keeps the provider's record but not a second copy of the vector.
    expect(first?.raw).toMatchObject({
      response: { body: { data: [{ embedding: "(1536 values: in the result's embedding)" }] } },
    });
    expect(JSON.stringify(first?.raw).length).toBeLessThan(1000);
    const cost = await client.jobCost("emb");
    expect(cost.costUsd).toBeGreaterThan(0);
    expect(cost.outputTokens).toBe(0);

    await expect(
      client.submitBatch({
        kind: "embeddings",
        requests: [{ id: "x", model: "text-embedding-ada-002", input: "hi", dimensions: 8 }],
        jobId: "ada",
        provider: "openai",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature" });
  });

  it("the emulation refuses malformed native shapes per request, as OpenAI answers them", async () => {
    const client = harness.client();
    const bad = (id: string, providerArgs: Record<string, unknown>, extra: Partial<BatchRequest> = {}) =>
      ({ id, model: MODEL, prompt: "p", providerArgs, ...extra }) as BatchRequest;
    await client.submitBatch({
      requests: [
        bad("no-json-schema", { response_format: { type: "json_schema" } }),
        bad("bad-format", { response_format: { type: "yaml" } }),
        bad("choice-without-tools", { tool_choice: "required" }),
        bad(
          "unknown-tool",
          { tool_choice: { type: "function", function: { name: "x" } } },
          { tools: [WEATHER_TOOL] },
        ),
        bad("five-stops", { stop: ["1", "2", "3", "4", "5"] }),
        bad("strict-loose", {
          response_format: {
            type: "json_schema",
            json_schema: {
              name: "n",
              strict: true,
              schema: { type: "object", properties: { a: { type: "string" } } },
            },
          },
        }),
        bad("system-image", {
          messages: [
            {
              role: "system",
              content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }],
            },
            { role: "user", content: "hi" },
          ],
        }),
        bad("bad-image", {
          messages: [
            { role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] },
          ],
        }),
        bad("fine", {}),
      ],
      jobId: "malformed",
      provider: "openai",
    });
    const results = byId(await resultsOf(harness, client, "malformed"));
    const error = (id: string) => results.get(id)?.error?.message ?? "";
    expect(results.get("fine")?.status).toBe("succeeded");
    expect(results.get("no-json-schema")?.status).toBe("failed");
    expect(error("no-json-schema")).toContain("response_format.json_schema");
    expect(error("bad-format")).toContain("'yaml'");
    expect(error("choice-without-tools")).toContain("only allowed when 'tools' are specified");
    expect(error("unknown-tool")).toContain("'x'");
    expect(error("five-stops")).toContain("maximum length 4");
    expect(error("strict-loose")).toContain(
      "'additionalProperties' is required to be supplied and to be false",
    );
    expect(error("system-image")).toContain("'image_url'");
    expect(error("bad-image")).toContain("Invalid image URL");

    await client.submitBatch({
      kind: "embeddings",
      requests: [
        { id: "ada", model: "text-embedding-ada-002", input: "hi", providerArgs: { dimensions: 8 } },
        { id: "extra", model: "text-embedding-3-small", input: "hi", providerArgs: { pooling: "mean" } },
      ],
      jobId: "malformed-embeddings",
      provider: "openai",
    });
    const embeddings = byId(await resultsOf(harness, client, "malformed-embeddings"));
    expect(embeddings.get("ada")?.error?.message).toBe("This model does not support specifying dimensions.");
    expect(embeddings.get("extra")?.error?.message).toContain("pooling");
  });
});
