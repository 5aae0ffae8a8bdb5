import { openAsBlob } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Groq from "groq-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { chatLine } from "./support/openai-compatible.js";
import { loadSpec, type OpenApiSpecValidator } from "./support/openapi.js";

const MODEL = "llama-3.1-8b-instant";

describe("the official groq-sdk accepts the Groq emulator unchanged", () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let sdk: Groq;
  let directory: string;
  let spec: OpenApiSpecValidator | null;

  beforeAll(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock, apiKeys: { groq: "gsk_emulator" } });
    // groq-sdk's baseURL is the host root; it puts /openai/v1 on every path itself.
    sdk = new Groq({ apiKey: "gsk_emulator", baseURL: emulator.baseURL("groq"), maxRetries: 0 });
    directory = await mkdtemp(join(tmpdir(), "relay-groq-sdk-"));
    // Groq's batch object is OpenAI's; its file object lacks `status`, so only batches are checked against the spec.
    spec = await loadSpec("openai-openapi.yaml");
  });
  afterAll(async () => {
    await emulator.close();
    await rm(directory, { recursive: true, force: true });
  });

  function expectBatchSchema(value: unknown) {
    if (spec) expect(spec.validate("Batch", JSON.parse(JSON.stringify(value)))).toEqual([]);
  }

  /** A file-backed Blob: groq-sdk reads a stream body whole, a Blob is what it sends as it is. */
  async function upload(lines: object[], name = "input.jsonl") {
    const path = join(directory, name);
    await writeFile(path, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
    const file = new File([await openAsBlob(path)], name, { type: "application/jsonl" });
    return sdk.files.create({ file, purpose: "batch" });
  }

  it("uploads, creates with metadata, follows the batch to completion and downloads the output", async () => {
    const file = await upload([
      chatLine("a", "first", MODEL),
      chatLine("b", "second", MODEL),
      chatLine("c", "third", MODEL),
    ]);
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "input.jsonl" });
    expect(file.id).toMatch(/^file_01/);
    expect(await sdk.files.info(file.id as string)).toMatchObject({ id: file.id, bytes: file.bytes });
    expect((await sdk.files.list()).data.map((entry) => entry.id)).toContain(file.id);

    const batch = await sdk.batches.create({
      input_file_id: file.id as string,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { purpose: "sdk-test" },
    });
    expect(batch).toMatchObject({ object: "batch", status: "validating", metadata: { purpose: "sdk-test" } });
    expect(batch.id).toMatch(/^batch_01[0-9a-hjkmnp-tv-z]{24}$/);
    expect((batch.expires_at ?? 0) - batch.created_at).toBe(24 * 3600);
    expectBatchSchema(batch);

    const seen: string[] = [];
    for (const step of [0, 600, 1_000, 1_000, 600]) {
      clock.advance(step);
      const current = await sdk.batches.retrieve(batch.id);
      expectBatchSchema(current);
      if (seen.at(-1) !== current.status) seen.push(current.status);
    }
    expect(seen).toEqual(["validating", "in_progress", "finalizing", "completed"]);

    const done = await sdk.batches.retrieve(batch.id);
    expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(done.error_file_id).toBeUndefined();
    const content = await sdk.files.content(done.output_file_id as string);
    const lines = (await content.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.custom_id)).not.toEqual(["a", "b", "c"]);
    expect(lines.map((line) => line.custom_id).sort()).toEqual(["a", "b", "c"]);
    for (const line of lines) {
      expect(line.id).toMatch(/^batch_req_out_01/);
      expect(line.response).toMatchObject({
        status_code: 200,
        body: { object: "chat.completion", model: MODEL },
      });
      expect(line.response.body.usage).toMatchObject({
        queue_time: expect.any(Number),
        total_tokens: expect.any(Number),
      });
      expect(line.response.body.x_groq.id).toBe(line.response.request_id);
      expect(line.error).toBeNull();
    }
    expect(await sdk.files.delete(file.id as string)).toEqual({ id: file.id, object: "file", deleted: true });
  });

  it("takes completion windows from 24h to 7d, refuses others and unknown fields with a typed error", async () => {
    const file = await upload([chatLine("w", "window", MODEL)], "window.jsonl");
    const week = await sdk.batches.create({
      input_file_id: file.id as string,
      endpoint: "/v1/chat/completions",
      completion_window: "7d",
    });
    expect(week).toMatchObject({ completion_window: "7d" });
    expect((week.expires_at ?? 0) - week.created_at).toBe(7 * 24 * 3600);
    await expect(
      sdk.batches.create({
        input_file_id: file.id as string,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
        output_expires_after: { anchor: "created_at", seconds: 3600 },
      } as Groq.BatchCreateParams),
    ).rejects.toBeInstanceOf(Groq.BadRequestError);
    for (const window of ["12h", "8d", "1w"]) {
      await expect(
        sdk.batches.create({
          input_file_id: file.id as string,
          endpoint: "/v1/chat/completions",
          completion_window: window,
        }),
      ).rejects.toBeInstanceOf(Groq.BadRequestError);
    }
  });

  it("lists every batch in one answer, newest first, and cancels: cancelling, then cancelled", async () => {
    const file = await upload([chatLine("c1", "one", MODEL), chatLine("c2", "two", MODEL)], "cancel.jsonl");
    const batch = await sdk.batches.create({
      input_file_id: file.id as string,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const list = await sdk.batches.list();
    expect(list.object).toBe("list");
    expect(list.data[0]?.id).toBe(batch.id);
    expect(list.data.length).toBe(emulator.batchCount("groq"));
    for (const entry of list.data) expectBatchSchema(entry);

    clock.advance(600);
    const cancelling = await sdk.batches.cancel(batch.id);
    expect(cancelling.status).toBe("cancelling");
    clock.advance(1_000);
    const cancelled = await sdk.batches.retrieve(batch.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.cancelled_at).toBeTypeOf("number");
  });

  it("reports validation failures in errors.data, as the OpenAI protocol does", async () => {
    const file = await upload([chatLine("d", "x", MODEL), chatLine("d", "y", MODEL)], "duplicate.jsonl");
    const batch = await sdk.batches.create({
      input_file_id: file.id as string,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    clock.advance(600);
    const failed = await sdk.batches.retrieve(batch.id);
    expect(failed.status).toBe("failed");
    expect(failed.errors?.data?.[0]).toMatchObject({ code: "duplicate_custom_id", line: 2 });
  });

  it("answers errors the SDK turns into its typed errors, and a wrong key with Groq's 401", async () => {
    await expect(sdk.batches.retrieve("batch_missing")).rejects.toBeInstanceOf(Groq.NotFoundError);
    await expect(
      sdk.batches.create({
        input_file_id: "file_missing",
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      }),
    ).rejects.toBeInstanceOf(Groq.NotFoundError);
    const stranger = new Groq({ apiKey: "gsk_wrong", baseURL: emulator.baseURL("groq"), maxRetries: 0 });
    const denied = await stranger.batches.list().catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(Groq.AuthenticationError);
    expect((denied as InstanceType<typeof Groq.AuthenticationError>).error).toEqual({
      error: { message: "Invalid API Key", type: "invalid_request_error", code: "invalid_api_key" },
    });
  });
});
