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

const MODEL = "grok-4.3";
const CHAT = "/v1/chat/completions";
const label = { type: "json_schema" as const, name: "label", schema: LABEL_SCHEMA };

describe("xAI request kinds through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("structured output on both request kinds (text.format on responses, response_format on chat), retried when invalid", async () => {
    const client = harness.client();
    harness.emulator.setFate("r-bad", "offschema");
    await client.submitBatch({
      requests: [
        { id: "r", model: MODEL, systemPrompt: "Label.", prompt: "Gold coins!", responseFormat: label },
        {
          id: "r-bad",
          model: MODEL,
          prompt: "Hello",
          responseFormat: z.object({ mood: z.enum(["ok", "bad"]) }),
        },
      ],
      jobId: "responses",
      provider: "xai",
    });
    await client.submitBatch({
      requests: [{ id: "c", model: MODEL, prompt: "Gold coins!", responseFormat: label }],
      jobId: "chat",
      provider: "xai",
      endpoint: CHAT,
    });
    const sent = sentBodies(harness, "xai");
    expect(sent.get("r")).toMatchObject({
      input: [
        { role: "system", content: "Label." },
        { role: "user", content: "Gold coins!" },
      ],
      text: { format: { type: "json_schema", name: "label", schema: LABEL_SCHEMA, strict: true } },
    });
    expect(sent.get("c")?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "label", schema: LABEL_SCHEMA, strict: true },
    });
    const responses = byId(await resultsOf(harness, client, "responses"));
    expect(responses.get("r")?.json).toMatchObject({ label: expect.stringMatching(/spam|ham/) });
    expect(responses.get("r-bad")).toMatchObject({
      status: "invalid_output",
      error: { code: "schema_mismatch" },
    });
    const [chat] = await resultsOf(harness, client, "chat");
    expect(chat?.json).toMatchObject({ label: expect.any(String) });

    harness.emulator.setFate("r-bad", "succeed");
    const retry = await client.retryFailed("responses");
    const [fixed] = await resultsOf(harness, client, retry.jobId);
    expect(fixed).toMatchObject({
      id: "r-bad",
      status: "succeeded",
      json: { mood: expect.stringMatching(/ok|bad/) },
    });
  });

  it("tool calls, images with their image tokens, and the common options; cost", async () => {
    const client = harness.client();
    const parts = [
      { type: "text" as const, text: "What is shown?" },
      { type: "image" as const, data: PIXEL_PNG, mediaType: "image/png" },
      { type: "image" as const, url: "https://example.com/d.jpg" },
    ];
    const requests: BatchRequest[] = [
      {
        id: "tool",
        model: MODEL,
        prompt: "Weather?",
        tools: [WEATHER_TOOL],
        toolChoice: { name: "get_weather" },
      },
      { id: "image", model: MODEL, messages: [{ role: "user", content: parts }] },
      {
        id: "options",
        model: MODEL,
        systemPrompt: "Shared.",
        prompt: "Go",
        temperature: 0.9,
        topP: 0.6,
        reasoningEffort: "low",
        cacheSystemPrompt: true,
      },
    ];
    await client.submitBatch({ requests, jobId: "kinds", provider: "xai" });
    const sent = sentBodies(harness, "xai");
    expect(sent.get("tool")).toMatchObject({
      tools: [{ type: "function", ...WEATHER_TOOL }],
      tool_choice: { type: "function", name: "get_weather" },
    });
    expect(firstContent(sent.get("image"), "input")).toEqual([
      { type: "input_text", text: "What is shown?" },
      { type: "input_image", image_url: `data:image/png;base64,${PIXEL_PNG}` },
      { type: "input_image", image_url: "https://example.com/d.jpg" },
    ]);
    expect(sent.get("options")).toMatchObject({
      temperature: 0.9,
      top_p: 0.6,
      reasoning: { effort: "low" },
      prompt_cache_key: expect.stringMatching(/^relay-/),
    });
    const results = byId(await resultsOf(harness, client, "kinds"));
    expect(results.get("tool")).toMatchObject({
      finishReason: "tool_calls",
      toolCalls: [{ name: "get_weather", arguments: { city: expect.any(String), unit: expect.any(String) } }],
    });
    expect(results.get("image")?.usage?.imageInputTokens).toBe(170);
    expect(results.get("options")?.usage?.cachedInputTokens).toBeGreaterThan(0);
    const cost = await client.jobCost("kinds");
    expect(cost.unknownModels).toEqual([]);
    expect(cost.costUsd).toBeGreaterThan(0);

    // Chat completions take a seed and stop sequences; the Responses API takes neither.
    await client.submitBatch({
      requests: [{ id: "s", model: MODEL, prompt: "p", seed: 3, stopSequences: ["x"] }],
      jobId: "chat-options",
      provider: "xai",
      endpoint: CHAT,
    });
    expect(sentBodies(harness, "xai").get("s")).toMatchObject({ seed: 3, stop: ["x"] });
    await expect(
      client.submitBatch({
        requests: [{ id: "s", model: MODEL, prompt: "p", seed: 3 }],
        jobId: "seed",
        provider: "xai",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining("seed") });
  });

  it("refuses embeddings: xAI's batch request types take none", async () => {
    await expect(
      harness.client().submitBatch({
        kind: "embeddings",
        requests: [{ id: "e", model: "v1", input: "hi" }],
        jobId: "emb",
        provider: "xai",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature" });
    expect(harness.emulator.batchCount("xai")).toBe(0);
  });

  it("the emulation refuses malformed native shapes when the requests are added", async () => {
    const client = harness.client();
    const attempt = client.submitBatch({
      requests: [
        {
          id: "bad",
          model: MODEL,
          prompt: "p",
          providerArgs: { text: { format: { type: "json_schema", name: "n" } } },
        },
      ],
      jobId: "bad",
      provider: "xai",
    });
    await expect(attempt).rejects.toMatchObject({
      httpStatus: 400,
      message: expect.stringContaining("text.format.schema"),
    });
    const results = await client.retrieveBatchResults("bad");
    expect(results).toMatchObject([{ id: "bad", status: "failed", error: { code: "not_added" } }]);
    expect(results[0]?.error?.message).toContain("Missing required parameter: 'text.format.schema'");
    expect(harness.emulator.providers.xai.addCalls.flatMap((call) => call.ids)).not.toContain("bad");
  });
});
