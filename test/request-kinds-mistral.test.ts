import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BatchRequest, EmbeddingRequest } from "../src/index.js";
import { parseMistralRecord } from "../src/providers/mistral/decode.js";
import { type Harness, startHarness } from "./support/harness.js";
import {
  byId,
  firstContent,
  LABEL_SCHEMA,
  PIXEL_PNG,
  resultsOf,
  sentBodies,
  WEATHER_TOOL,
} from "./support/kinds.js";

const MODEL = "mistral-small-latest";
const label = { type: "json_schema" as const, name: "label", schema: LABEL_SCHEMA };

describe("Mistral request kinds through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("structured output without a model in the body, json parsed, an off-schema answer retried", async () => {
    const client = harness.client();
    harness.emulator.setFate("b", "offschema");
    await client.submitBatch({
      requests: [
        { id: "a", model: MODEL, prompt: "Cheap watches", responseFormat: label },
        { id: "b", model: MODEL, prompt: "Team lunch", responseFormat: z.object({ topic: z.string() }) },
      ],
      jobId: "so",
      provider: "mistral",
    });
    const sent = sentBodies(harness, "mistral");
    expect(sent.get("a")).not.toHaveProperty("model");
    expect(sent.get("a")?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "label", schema: LABEL_SCHEMA, strict: true },
    });
    const results = byId(await resultsOf(harness, client, "so"));
    expect(results.get("a")?.json).toMatchObject({ label: expect.stringMatching(/spam|ham/) });
    expect(results.get("b")).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });
    harness.emulator.setFate("b", "succeed");
    const retry = await client.retryFailed("so");
    const [fixed] = await resultsOf(harness, client, retry.jobId);
    expect(fixed).toMatchObject({ id: "b", status: "succeeded", json: { topic: expect.any(String) } });
  });

  it("tool calls, images and the common options under Mistral's names; cached tokens priced", async () => {
    const client = harness.client();
    const requests: BatchRequest[] = [
      { id: "tool", model: MODEL, prompt: "Weather?", tools: [WEATHER_TOOL], toolChoice: "required" },
      {
        id: "image",
        model: MODEL,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", url: "https://example.com/c.png" },
              { type: "image", data: PIXEL_PNG, mediaType: "image/png" },
              { type: "text", text: "Which is brighter?" },
            ],
          },
        ],
      },
      {
        id: "options",
        model: MODEL,
        systemPrompt: "A long shared instruction.",
        prompt: "Go",
        temperature: 1.2,
        topP: 0.7,
        stopSequences: ["\n"],
        seed: 9,
        reasoningEffort: "high",
        cacheSystemPrompt: true,
        maxTokens: 900,
      },
    ];
    await client.submitBatch({ requests, jobId: "kinds", provider: "mistral" });
    const sent = sentBodies(harness, "mistral");
    expect(sent.get("tool")).toMatchObject({
      tools: [{ type: "function", function: WEATHER_TOOL }],
      tool_choice: "required",
    });
    expect(firstContent(sent.get("image"))).toEqual([
      { type: "image_url", image_url: { url: "https://example.com/c.png" } },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL_PNG}` } },
      { type: "text", text: "Which is brighter?" },
    ]);
    expect(sent.get("options")).toEqual({
      messages: [
        { role: "system", content: "A long shared instruction." },
        { role: "user", content: "Go" },
      ],
      max_tokens: 900,
      temperature: 1.2,
      top_p: 0.7,
      stop: ["\n"],
      random_seed: 9,
      reasoning_effort: "high",
      prompt_cache_key: expect.stringMatching(/^relay-/),
    });
    const results = byId(await resultsOf(harness, client, "kinds"));
    expect(results.get("tool")).toMatchObject({
      finishReason: "tool_calls",
      toolCalls: [{ name: "get_weather", arguments: { city: expect.any(String) } }],
    });
    expect(results.get("image")?.status).toBe("succeeded");
    const cached = results.get("options")?.usage?.cachedInputTokens ?? 0;
    expect(cached).toBeGreaterThan(0);
    const cost = await client.jobCost("kinds");
    expect(cost.byModel[MODEL]?.cachedInputTokens).toBe(cached);
    expect(cost.costUsd).toBeGreaterThan(0);
  });

  it("reads tool-call arguments Mistral sends as an object", () => {
    const parsed = parseMistralRecord({
      id: "x",
      custom_id: "t",
      response: {
        status_code: 200,
        body: {
          model: MODEL,
          choices: [
            {
              index: 0,
              finish_reason: "tool_calls",
              message: {
                role: "assistant",
                content: "",
                tool_calls: [
                  {
                    id: "c1",
                    type: "function",
                    function: { name: "get_weather", arguments: { city: "Paris" } },
                    index: 0,
                  },
                ],
              },
            },
          ],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        },
      },
      error: null,
    });
    expect(parsed?.result.toolCalls).toEqual([
      { id: "c1", name: "get_weather", arguments: { city: "Paris" } },
    ]);
    expect(parsed?.result.finishReason).toBe("tool_calls");
  });

  it("refuses, before sending, what Mistral cannot take: temperature over 1.5, negative seeds, other efforts", async () => {
    const client = harness.client();
    const refused: [string, Partial<BatchRequest>, string][] = [
      ["hot", { temperature: 1.8 }, "1.5"],
      ["seed", { seed: -1 }, "random_seed"],
      ["effort", { reasoningEffort: "low" }, '"high"'],
    ];
    for (const [id, extra, words] of refused) {
      await expect(
        client.submitBatch({
          requests: [{ id, model: MODEL, prompt: "p", ...extra }],
          jobId: id,
          provider: "mistral",
        }),
      ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining(words) });
    }
    expect(harness.emulator.batchCount("mistral")).toBe(0);
  });

  it("embeddings jobs on /v1/embeddings: the model on the job, vectors of the model's length, priced", async () => {
    const client = harness.client();
    const requests: EmbeddingRequest[] = [
      { id: "m1", model: "mistral-embed", input: "Bonjour" },
      { id: "m2", model: "mistral-embed", input: "le monde" },
    ];
    await client.submitBatch({ kind: "embeddings", requests, jobId: "emb", provider: "mistral" });
    const [batch] = harness.emulator.providers.mistral.batches.values();
    expect(batch).toMatchObject({ endpoint: "/v1/embeddings", model: "mistral-embed" });
    expect(sentBodies(harness, "mistral").get("m1")).toEqual({ input: "Bonjour" });
    const results = byId(await resultsOf(harness, client, "emb"));
    expect(results.get("m1")?.embedding).toHaveLength(1024);
    expect(results.get("m1")?.embedding).not.toEqual(results.get("m2")?.embedding);
    expect(results.get("m2")?.usage).toMatchObject({ outputTokens: 0 });
    expect(JSON.stringify(results.get("m1")?.raw)).toContain("(1024 values: in the result's embedding)");
    const cost = await client.jobCost("emb");
    expect(cost.costUsd).toBeGreaterThan(0);

    await client.submitBatch({
      kind: "embeddings",
      requests: [{ id: "c", model: "codestral-embed", input: "def f(): pass", dimensions: 256 }],
      jobId: "code",
      provider: "mistral",
    });
    expect(sentBodies(harness, "mistral").get("c")).toEqual({
      input: "def f(): pass",
      output_dimension: 256,
    });
    const [code] = await resultsOf(harness, client, "code");
    expect(code?.embedding).toHaveLength(256);
  });

  it("the emulation answers malformed native shapes with Mistral's 422 detail, per request", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [
        {
          id: "no-schema",
          model: MODEL,
          prompt: "p",
          providerArgs: { response_format: { type: "json_schema", json_schema: { name: "n" } } },
        },
        {
          id: "no-parameters",
          model: MODEL,
          prompt: "p",
          providerArgs: { tools: [{ type: "function", function: { name: "f" } }] },
        },
        { id: "ok", model: MODEL, prompt: "p" },
      ],
      jobId: "bad",
      provider: "mistral",
    });
    const results = byId(await resultsOf(harness, client, "bad"));
    expect(results.get("ok")?.status).toBe("succeeded");
    const expected: [string, string][] = [
      ["no-schema", "response_format.json_schema.schema"],
      ["no-parameters", "tools.0.function.parameters"],
    ];
    for (const [id, field] of expected) {
      const result = results.get(id);
      expect(result?.status).toBe("failed");
      expect(result?.error?.message).toContain(field);
      expect(result?.error?.message).toContain("Field required");
    }
  });
});
