import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { BatchRequest } from "../src/index.js";
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

const LLAMA = "llama-3.1-8b-instant";
const GPT_OSS = "openai/gpt-oss-20b";
const SCOUT = "meta-llama/llama-4-scout-17b-16e-instruct";
const label = { type: "json_schema" as const, name: "label", schema: LABEL_SCHEMA };

const image = (count: number): BatchRequest["messages"] => [
  {
    role: "user",
    content: [
      { type: "text", text: "Compare:" },
      ...Array.from({ length: count }, (_, index) =>
        index % 2 === 0
          ? { type: "image" as const, data: PIXEL_PNG, mediaType: "image/png" }
          : { type: "image" as const, url: `https://example.com/${index}.png` },
      ),
    ],
  },
];

describe("Groq request kinds through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("structured output: strict on the models that have it, best-effort elsewhere; answers checked and retried", async () => {
    const client = harness.client();
    harness.emulator.setFate("loose", "offschema");
    await client.submitBatch({
      requests: [
        { id: "strict", model: GPT_OSS, prompt: "Label it", responseFormat: label },
        { id: "loose", model: LLAMA, prompt: "Label it", responseFormat: label },
        {
          id: "zod",
          model: GPT_OSS,
          prompt: "Rate it",
          responseFormat: z.object({ stars: z.int().min(1).max(5) }),
        },
      ],
      jobId: "so",
      provider: "groq",
    });
    const sent = sentBodies(harness, "groq");
    expect(sent.get("strict")?.response_format).toMatchObject({ json_schema: { strict: true } });
    expect(sent.get("loose")?.response_format).toMatchObject({
      json_schema: { strict: false, schema: LABEL_SCHEMA },
    });
    const results = byId(await resultsOf(harness, client, "so"));
    expect(results.get("strict")?.json).toMatchObject({ label: expect.stringMatching(/spam|ham/) });
    const stars = (results.get("zod")?.json as { stars?: number } | undefined)?.stars;
    expect(Number.isInteger(stars) && (stars ?? 0) >= 1 && (stars ?? 9) <= 5).toBe(true);
    // Best-effort mode may miss the schema: Relay's own check catches it, and a retry fixes it.
    expect(results.get("loose")).toMatchObject({
      status: "invalid_output",
      error: { code: "schema_mismatch" },
    });
    harness.emulator.setFate("loose", "succeed");
    const retry = await client.retryFailed("so");
    const [again] = await resultsOf(harness, client, retry.jobId);
    expect(again).toMatchObject({ id: "loose", status: "succeeded", json: { label: expect.any(String) } });
  });

  it("images only on vision models, at most 5 per request; refused before sending otherwise", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [{ id: "v", model: SCOUT, messages: image(2) }],
      jobId: "vision",
      provider: "groq",
    });
    const content = firstContent(sentBodies(harness, "groq").get("v"));
    expect(content).toEqual([
      { type: "text", text: "Compare:" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL_PNG}` } },
      { type: "image_url", image_url: { url: "https://example.com/1.png" } },
    ]);
    const [seen] = await resultsOf(harness, client, "vision");
    expect(seen?.status).toBe("succeeded");

    await expect(
      client.submitBatch({
        requests: [{ id: "t", model: LLAMA, messages: image(1) }],
        jobId: "text-model",
        provider: "groq",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining(LLAMA) });
    await expect(
      client.submitBatch({
        requests: [{ id: "t", model: SCOUT, messages: image(6) }],
        jobId: "six",
        provider: "groq",
      }),
    ).rejects.toMatchObject({
      code: "unsupported_feature",
      message: expect.stringContaining("at most 5 images"),
    });
    expect(harness.emulator.batchCount("groq")).toBe(1);
  });

  it("tool calls and the common options; reasoning effort only where Groq takes it; cost", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [
        { id: "tool", model: LLAMA, prompt: "Weather?", tools: [WEATHER_TOOL], toolChoice: "required" },
        {
          id: "options",
          model: GPT_OSS,
          systemPrompt: "Be brief.",
          prompt: "Think.",
          temperature: 0.7,
          topP: 0.8,
          stopSequences: ["STOP"],
          seed: 11,
          reasoningEffort: "high",
          cacheSystemPrompt: true,
          maxTokens: 1000,
        },
      ],
      jobId: "kinds",
      provider: "groq",
    });
    const options = sentBodies(harness, "groq").get("options");
    expect(options).toMatchObject({
      temperature: 0.7,
      top_p: 0.8,
      stop: ["STOP"],
      seed: 11,
      reasoning_effort: "high",
      max_completion_tokens: 1000,
    });
    expect(options).not.toHaveProperty("prompt_cache_key");
    const results = byId(await resultsOf(harness, client, "kinds"));
    expect(results.get("tool")).toMatchObject({
      finishReason: "tool_calls",
      toolCalls: [{ name: "get_weather" }],
    });
    expect(results.get("options")?.usage?.outputTokens).toBeGreaterThan(512);
    const cost = await client.jobCost("kinds");
    expect(cost.unknownModels).toEqual([]);
    expect(cost.costUsd).toBeGreaterThan(0);

    for (const [model, effort, words] of [
      [LLAMA, "low", LLAMA],
      [GPT_OSS, "minimal", '"minimal"'],
    ] as const) {
      await expect(
        client.submitBatch({
          requests: [{ id: "r", model, prompt: "p", reasoningEffort: effort }],
          jobId: `effort-${effort}`,
          provider: "groq",
        }),
      ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining(words) });
    }
  });

  it("refuses embeddings: Groq batches chat completions only", async () => {
    await expect(
      harness.client().submitBatch({
        kind: "embeddings",
        requests: [{ id: "e", model: "nomic-embed-text", input: "hi" }],
        jobId: "emb",
        provider: "groq",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature" });
    expect(harness.emulator.batchCount("groq")).toBe(0);
  });

  it("the emulation refuses strict mode and images on models without them", async () => {
    const client = harness.client();
    const strict = { type: "json_schema", json_schema: { name: "n", strict: true, schema: LABEL_SCHEMA } };
    await client.submitBatch({
      requests: [
        { id: "strict", model: LLAMA, prompt: "p", providerArgs: { response_format: strict } },
        {
          id: "image",
          model: LLAMA,
          prompt: "p",
          providerArgs: {
            messages: [
              {
                role: "user",
                content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }],
              },
            ],
          },
        },
        { id: "ok", model: LLAMA, prompt: "p" },
      ],
      jobId: "bad",
      provider: "groq",
    });
    const results = byId(await resultsOf(harness, client, "bad"));
    expect(results.get("ok")?.status).toBe("succeeded");
    expect(results.get("strict")?.error?.message).toContain("does not support strict");
    expect(results.get("image")?.error?.message).toContain("does not support image inputs");
  });
});
