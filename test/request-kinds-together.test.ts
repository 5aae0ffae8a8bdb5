import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BatchRequest } from "../src/index.js";
import { type Harness, startHarness } from "./support/harness.js";
import { byId, LABEL_SCHEMA, PIXEL_PNG, resultsOf, sentBodies, WEATHER_TOOL } from "./support/kinds.js";

const MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo";
const VISION = "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8";
const label = { type: "json_schema" as const, name: "label", schema: LABEL_SCHEMA };

describe("Together AI request kinds through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("structured output: json_schema response_format (the spec's shape), json parsed, invalid answers retried", async () => {
    const client = harness.client();
    const zodLabel = z.object({ label: z.enum(["spam", "ham"]), why: z.string() });
    harness.emulator.setFate("bad", "badjson");
    await client.submitBatch({
      requests: [
        { id: "a", model: MODEL, systemPrompt: "Label.", prompt: "Cheap pills", responseFormat: label },
        { id: "z", model: MODEL, prompt: "Dinner at 8", responseFormat: zodLabel },
        { id: "bad", model: MODEL, prompt: "Dinner at 8", responseFormat: label },
      ],
      jobId: "so",
      provider: "together",
    });
    const sent = sentBodies(harness, "together");
    expect(sent.get("a")).toMatchObject({
      model: MODEL,
      messages: [
        { role: "system", content: "Label." },
        { role: "user", content: "Cheap pills" },
      ],
      response_format: {
        type: "json_schema",
        json_schema: { name: "label", schema: LABEL_SCHEMA, strict: true },
      },
    });
    const results = byId(await resultsOf(harness, client, "so"));
    expect(results.get("a")?.json).toMatchObject({ label: expect.stringMatching(/spam|ham/) });
    expect(zodLabel.safeParse(results.get("z")?.json).success).toBe(true);
    expect(results.get("bad")).toMatchObject({ status: "invalid_output", error: { code: "invalid_json" } });
    harness.emulator.setFate("bad", "succeed");
    const retry = await client.retryFailed("so");
    const [fixed] = await resultsOf(harness, client, retry.jobId);
    expect(fixed).toMatchObject({ id: "bad", status: "succeeded", json: { label: expect.any(String) } });
  });

  it("tool calls, images (data and URL; text-only system and assistant turns) and the common options", async () => {
    const client = harness.client();
    const requests: BatchRequest[] = [
      { id: "tool", model: MODEL, prompt: "Weather? [emulator:tool]", tools: [WEATHER_TOOL] },
      {
        id: "image",
        model: VISION,
        messages: [
          {
            role: "system",
            content: [
              { type: "text", text: "You see " },
              { type: "text", text: "well." },
            ],
          },
          {
            role: "user",
            content: [
              { type: "text", text: "What is it?" },
              { type: "image", data: PIXEL_PNG, mediaType: "image/png" },
              { type: "image", url: "https://example.com/b.webp" },
            ],
          },
        ],
      },
      {
        id: "options",
        model: MODEL,
        prompt: "Go",
        temperature: 0.4,
        topP: 0.95,
        stopSequences: ["</s>"],
        seed: 5,
        reasoningEffort: "medium",
        maxTokens: 64,
      },
    ];
    await client.submitBatch({ requests, jobId: "kinds", provider: "together" });
    const sent = sentBodies(harness, "together");
    expect(sent.get("tool")?.tools).toEqual([{ type: "function", function: WEATHER_TOOL }]);
    expect(sent.get("image")?.messages).toEqual([
      { role: "system", content: "You see well." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is it?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL_PNG}` } },
          { type: "image_url", image_url: { url: "https://example.com/b.webp" } },
        ],
      },
    ]);
    expect(sent.get("options")).toMatchObject({
      temperature: 0.4,
      top_p: 0.95,
      stop: ["</s>"],
      seed: 5,
      reasoning_effort: "medium",
      max_tokens: 64,
    });
    const results = byId(await resultsOf(harness, client, "kinds"));
    expect(results.get("tool")).toMatchObject({
      finishReason: "tool_calls",
      toolCalls: [{ name: "get_weather", arguments: { city: expect.any(String), unit: expect.any(String) } }],
    });
    expect(results.get("image")?.status).toBe("succeeded");
    expect(results.get("options")?.status).toBe("succeeded");
    const cost = await client.jobCost("kinds");
    expect(cost.byModel[MODEL]?.costUsd).toBeGreaterThan(0);
  });

  it("refuses what Together's batches do not take: embeddings, cacheSystemPrompt, a minimal reasoning effort", async () => {
    const client = harness.client();
    await expect(
      client.submitBatch({
        kind: "embeddings",
        requests: [{ id: "e", model: "BAAI/bge-large-en-v1.5", input: "hi" }],
        jobId: "emb",
        provider: "together",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature" });
    await expect(
      client.submitBatch({
        requests: [{ id: "c", model: MODEL, systemPrompt: "s", prompt: "p", cacheSystemPrompt: true }],
        jobId: "cache",
        provider: "together",
      }),
    ).rejects.toMatchObject({
      code: "unsupported_feature",
      message: expect.stringContaining("cacheSystemPrompt"),
    });
    await expect(
      client.submitBatch({
        requests: [{ id: "m", model: MODEL, prompt: "p", reasoningEffort: "minimal" }],
        jobId: "minimal",
        provider: "together",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining('"minimal"') });
    expect(harness.emulator.batchCount("together")).toBe(0);
  });

  it("the emulation refuses malformed native shapes per request", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [
        {
          id: "no-schema",
          model: MODEL,
          prompt: "p",
          providerArgs: { response_format: { type: "json_schema" } },
        },
        {
          id: "system-parts",
          model: MODEL,
          prompt: "p",
          providerArgs: {
            messages: [
              { role: "system", content: [{ type: "text", text: "x" }] },
              { role: "user", content: "p" },
            ],
          },
        },
        { id: "effort", model: MODEL, prompt: "p", providerArgs: { reasoning_effort: "max" } },
        { id: "ok", model: MODEL, prompt: "p" },
      ],
      jobId: "bad",
      provider: "together",
    });
    const results = byId(await resultsOf(harness, client, "bad"));
    expect(results.get("ok")?.status).toBe("succeeded");
    expect(results.get("no-schema")?.error?.message).toContain("response_format.json_schema");
    expect(results.get("system-parts")?.error?.message).toContain("takes a string");
    expect(results.get("effort")?.error?.message).toContain("'max'");
  });
});
