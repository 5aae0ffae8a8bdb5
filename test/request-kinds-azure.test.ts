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

// A Global-Batch deployment named after its model, so that it is priced.
const DEPLOYMENT = "gpt-4o-mini";
const label = { type: "json_schema" as const, name: "label", schema: LABEL_SCHEMA };

describe("Azure OpenAI request kinds through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("structured output (JSON Schema and zod) into json, an invalid answer retried to success", async () => {
    const client = harness.client();
    const zodLabel = z.object({ label: z.enum(["spam", "ham"]) });
    harness.emulator.setFate("b", "offschema");
    await client.submitBatch({
      requests: [
        { id: "a", model: DEPLOYMENT, prompt: "Free money", responseFormat: label },
        { id: "b", model: DEPLOYMENT, prompt: "Hi mum", responseFormat: label },
        { id: "c", model: DEPLOYMENT, prompt: "Hello", responseFormat: zodLabel },
      ],
      jobId: "so",
      provider: "azure",
    });
    expect(sentBodies(harness, "azure").get("a")?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "label", schema: LABEL_SCHEMA, strict: true },
    });
    const results = byId(await resultsOf(harness, client, "so"));
    expect(results.get("a")?.json).toMatchObject({ label: expect.stringMatching(/spam|ham/) });
    expect(zodLabel.safeParse(results.get("c")?.json).success).toBe(true);
    expect(results.get("b")?.status).toBe("invalid_output");
    harness.emulator.setFate("b", "succeed");
    const retry = await client.retryFailed("so");
    await resultsOf(harness, client, retry.jobId);
    const merged = await client.retrieveBatchResults("so", { merged: true });
    expect(merged.every((result) => result.status === "succeeded")).toBe(true);

    await client.submitBatch({
      requests: [{ id: "r", model: DEPLOYMENT, prompt: "Free money", responseFormat: label }],
      jobId: "so-responses",
      provider: "azure",
      endpoint: "/v1/responses",
    });
    expect(sentBodies(harness, "azure").get("r")?.text).toMatchObject({
      format: { type: "json_schema", name: "label" },
    });
    const [answer] = await resultsOf(harness, client, "so-responses");
    expect(answer?.json).toMatchObject({ label: expect.any(String) });
  });

  it("tool calls, images by data and URL, and the common options", async () => {
    const client = harness.client();
    const requests: BatchRequest[] = [
      {
        id: "tool",
        model: DEPLOYMENT,
        prompt: "Weather?",
        tools: [WEATHER_TOOL],
        toolChoice: { name: "get_weather" },
      },
      {
        id: "image",
        model: DEPLOYMENT,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", data: PIXEL_PNG, mediaType: "image/png" },
              { type: "image", url: "https://example.com/x.png" },
              { type: "text", text: "Describe." },
            ],
          },
        ],
      },
      {
        id: "options",
        model: DEPLOYMENT,
        systemPrompt: "Be brief.",
        prompt: "Hi",
        temperature: 0,
        topP: 0.5,
        stopSequences: ["."],
        seed: 7,
        reasoningEffort: "medium",
        cacheSystemPrompt: true,
      },
    ];
    await client.submitBatch({ requests, jobId: "kinds", provider: "azure" });
    const sent = sentBodies(harness, "azure");
    expect(sent.get("tool")?.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(firstContent(sent.get("image"))).toEqual([
      { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL_PNG}` } },
      { type: "image_url", image_url: { url: "https://example.com/x.png" } },
      { type: "text", text: "Describe." },
    ]);
    const options = sent.get("options");
    expect(options).toMatchObject({
      temperature: 0,
      top_p: 0.5,
      stop: ["."],
      seed: 7,
      reasoning_effort: "medium",
    });
    // Caching is automatic at Azure: cacheSystemPrompt sends nothing.
    expect(options).not.toHaveProperty("prompt_cache_key");
    const results = byId(await resultsOf(harness, client, "kinds"));
    expect(results.get("tool")).toMatchObject({
      finishReason: "tool_calls",
      toolCalls: [{ name: "get_weather", arguments: { city: expect.any(String) } }],
    });
    expect(results.get("image")?.status).toBe("succeeded");
    expect(results.get("options")?.usage?.reasoningTokens).toBe(128);
    const cost = await client.jobCost("kinds");
    expect(cost.costUsd).toBeGreaterThan(0);
    expect(cost.unknownModels).toEqual([]);
  });

  it("refuses embeddings before anything is sent (the global batch FAQ: not supported)", async () => {
    const client = harness.client();
    await expect(
      client.submitBatch({
        kind: "embeddings",
        requests: [{ id: "e", model: "text-embedding-3-small", input: "hello" }],
        jobId: "emb",
        provider: "azure",
      }),
    ).rejects.toMatchObject({ code: "unsupported_feature", message: expect.stringContaining("embeddings") });
    expect(harness.emulator.batchCount("azure")).toBe(0);
    expect(await client.getJob("emb")).toBeNull();
  });

  it("the emulation refuses malformed native shapes per request", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: [
        {
          id: "no-schema",
          model: DEPLOYMENT,
          prompt: "p",
          providerArgs: { response_format: { type: "json_schema" } },
        },
        { id: "no-tools", model: DEPLOYMENT, prompt: "p", providerArgs: { tool_choice: "auto" } },
        { id: "ok", model: DEPLOYMENT, prompt: "p" },
      ],
      jobId: "bad",
      provider: "azure",
    });
    const results = byId(await resultsOf(harness, client, "bad"));
    expect(results.get("ok")?.status).toBe("succeeded");
    expect(results.get("no-schema")).toMatchObject({
      status: "failed",
      error: { code: "missing_required_parameter" },
    });
    expect(results.get("no-tools")?.error?.message).toContain("only allowed when 'tools' are specified");
  });
});
