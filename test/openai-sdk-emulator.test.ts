import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { loadSpec, type OpenApiSpecValidator, sharedDir } from "./support/openapi.js";

const jsonl = (lines: object[]) => `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;

function chatLine(customId: string, prompt: string) {
  return {
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "gpt-4o-mini", messages: [{ role: "user", content: prompt }] },
  };
}

describe("the official openai SDK accepts the emulator unchanged", () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let sdk: OpenAI;
  let spec: OpenApiSpecValidator | null;

  beforeAll(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock });
    sdk = new OpenAI({ apiKey: "sk-emulator", baseURL: emulator.baseURL("openai"), maxRetries: 0 });
    spec = await loadSpec("openai-openapi.yaml");
  });
  afterAll(async () => {
    await emulator.close();
  });

  function expectSchema(schema: string, value: unknown) {
    if (!spec) return;
    expect(spec.validate(schema, JSON.parse(JSON.stringify(value)))).toEqual([]);
  }

  async function upload(lines: object[]) {
    return sdk.files.create({ file: new File([jsonl(lines)], "input.jsonl"), purpose: "batch" });
  }

  it("uploads a file, creates a batch, follows it to completion and downloads the output", async () => {
    const file = await upload([chatLine("a", "first"), chatLine("b", "second")]);
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "input.jsonl" });
    expectSchema("OpenAIFile", file);
    expect(await sdk.files.retrieve(file.id)).toMatchObject({ id: file.id });

    const batch = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { purpose: "sdk-test" },
    });
    expect(batch).toMatchObject({
      object: "batch",
      status: "validating",
      input_file_id: file.id,
      metadata: { purpose: "sdk-test" },
    });
    expectSchema("Batch", batch);

    const seen: string[] = [];
    for (const step of [0, 600, 1_000, 1_000, 600]) {
      clock.advance(step);
      const current = await sdk.batches.retrieve(batch.id);
      expectSchema("Batch", current);
      if (seen.at(-1) !== current.status) seen.push(current.status);
    }
    expect(seen).toEqual(["validating", "in_progress", "finalizing", "completed"]);

    const done = await sdk.batches.retrieve(batch.id);
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(done.usage?.total_tokens).toBeGreaterThan(0);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.finalizing_at ?? Number.POSITIVE_INFINITY);
    const content = await sdk.files.content(done.output_file_id as string);
    const lines = (await content.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.custom_id).sort()).toEqual(["a", "b"]);
    expect(lines[0].response.status_code).toBe(200);
    expect(lines[0].response.body.choices[0].message.content).toContain("You said:");
  });

  it("lists batches newest first with working cursor pagination", async () => {
    const file = await upload([chatLine("x", "x")]);
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const batch = await sdk.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      created.push(batch.id);
    }
    const firstPage = await sdk.batches.list({ limit: 2 });
    expect(firstPage.data.map((batch) => batch.id)).toEqual([created[4], created[3]]);
    expect(firstPage.has_more).toBe(true);
    expectSchema("ListBatchesResponse", {
      object: "list",
      data: firstPage.data,
      has_more: firstPage.has_more,
    });
    const all: string[] = [];
    for await (const batch of sdk.batches.list({ limit: 2 })) all.push(batch.id);
    expect(all.slice(0, 5)).toEqual([...created].reverse());
    expect(new Set(all).size).toBe(all.length);
  });

  it("cancels a batch: cancelling, then cancelled", async () => {
    const file = await upload([chatLine("c1", "one"), chatLine("c2", "two")]);
    const batch = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    clock.advance(600);
    const cancelling = await sdk.batches.cancel(batch.id);
    expect(cancelling.status).toBe("cancelling");
    expectSchema("Batch", cancelling);
    clock.advance(1_000);
    const cancelled = await sdk.batches.retrieve(batch.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.cancelled_at).toBeTypeOf("number");
    expectSchema("Batch", cancelled);
  });

  it("reports validation failures in errors.data, as OpenAI does", async () => {
    const file = await upload([chatLine("d", "x"), chatLine("d", "y")]);
    const batch = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    clock.advance(600);
    const failed = await sdk.batches.retrieve(batch.id);
    expect(failed.status).toBe("failed");
    expect(failed.errors?.data?.[0]).toMatchObject({ code: "duplicate_custom_id", line: 2 });
    expectSchema("Batch", failed);
  });

  it("answers errors in OpenAI's shape, which the SDK turns into its typed errors", async () => {
    await expect(sdk.batches.retrieve("batch_missing")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const invalid = await sdk.batches
      .create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(OpenAI.NotFoundError);

    const denied = await fetch(`${emulator.baseURL("openai")}/batches`);
    expect(denied.status).toBe(401);
    const body = (await denied.json()) as { error: { code: string } };
    expect(body.error.code).toBe("invalid_api_key");
    expectSchema("ErrorResponse", body);
  });

  it.skipIf(sharedDir() !== null)("skips the OpenAPI checks: ../shared/specs is absent", () => {});
});
