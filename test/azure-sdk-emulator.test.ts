import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { chatLine } from "./support/openai-compatible.js";

const KEY = "azure-emulator-key";
const DEPLOYMENT = "gpt-4o-mini-batch";
const ENOUGH = 60_000;
const ISO_7 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$/;

const jsonl = (lines: object[]) => `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;

describe("the official openai SDK's AzureOpenAI and OpenAI clients accept the Azure emulator unchanged", () => {
  let emulator: Emulator;
  let clock: ManualClock;
  /** The versioned API: `{endpoint}/openai/…?api-version=…` with the `api-key` header. */
  let versioned: AzureOpenAI;
  /** The v1 API through the plain OpenAI client: `{endpoint}/openai/v1/…`, the key as a bearer token. */
  let v1: OpenAI;

  beforeAll(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock, apiKeys: { azure: KEY } });
    const endpoint = emulator.baseURL("azure");
    versioned = new AzureOpenAI({ apiKey: KEY, endpoint, apiVersion: "2024-10-21", maxRetries: 0 });
    v1 = new OpenAI({ apiKey: KEY, baseURL: `${endpoint}/openai/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  const upload = (client: OpenAI, lines: object[], name = "input.jsonl") =>
    client.files.create({ file: new File([jsonl(lines)], name), purpose: "batch" });

  it("versioned API: uploads, creates, follows the batch in Azure's shapes and downloads the output", async () => {
    const file = await upload(versioned, [
      chatLine("a", "first", DEPLOYMENT),
      chatLine("b", "second", DEPLOYMENT),
    ]);
    expect(file).toMatchObject({ object: "file", purpose: "batch", status: "processed", expires_at: null });
    expect(file.id).toMatch(/^file-[0-9a-f]{32}$/);
    const batch = await versioned.batches.create({
      input_file_id: file.id,
      endpoint: "/chat/completions" as "/v1/chat/completions",
      completion_window: "24h",
      metadata: { purpose: "sdk-test" },
    });
    expect(batch.id).toMatch(/^batch_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // As in Azure's Python samples: unix seconds, lower case, endpoint null, zero counts and "" file IDs.
    expect(batch).toMatchObject({
      status: "validating",
      endpoint: null,
      output_file_id: "",
      error_file_id: "",
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { purpose: "sdk-test" },
      in_progress_at: null,
    });
    expect(batch.created_at).toBeTypeOf("number");
    const paths = emulator.requestLog.map((entry) => `${entry.method} ${entry.path}`);
    expect(paths).toEqual(["POST /azure/openai/files", "POST /azure/openai/batches"]);

    clock.advance(ENOUGH);
    const done = await versioned.batches.retrieve(batch.id);
    expect(done).toMatchObject({
      status: "completed",
      request_counts: { total: 2, completed: 2, failed: 0 },
    });
    const lines = (await (await versioned.files.content(done.output_file_id as string)).text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.custom_id).sort()).toEqual(["a", "b"]);
    expect(lines[0]).not.toHaveProperty("id");
    expect(lines[0].response.body.choices[0].content_filter_results.hate).toEqual({
      filtered: false,
      severity: "safe",
    });
    expect(lines[0].response.body.prompt_filter_results[0].prompt_index).toBe(0);
    // "Successful jobs will still generate an error_file_id, but it will be associated with an empty file."
    expect(done.error_file_id).toBeTruthy();
    expect(await (await versioned.files.content(done.error_file_id as string)).text()).toBe("");
  });

  it("v1 API: ISO timestamps with 7 digits, capitalised statuses, null counts while validating", async () => {
    const file = await upload(v1, [chatLine("x", "one", DEPLOYMENT), chatLine("y", "two", DEPLOYMENT)]);
    const batch = await v1.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect(batch).toMatchObject({
      status: "Validating",
      errors: null,
      metadata: null,
      output_file_id: null,
      request_counts: { total: null, completed: null, failed: null },
    });
    expect(batch.created_at as unknown).toMatch(ISO_7);
    expect(batch.expires_at as unknown).toMatch(ISO_7);
    clock.advance(ENOUGH);
    const done = await v1.batches.retrieve(batch.id);
    expect(done).toMatchObject({
      status: "Completed",
      request_counts: { total: 2, completed: 2, failed: 0 },
    });
    expect(done.completed_at as unknown).toMatch(ISO_7);
  });

  it("lists batches newest first with cursor paging, on both APIs", async () => {
    const file = await upload(versioned, [chatLine("p", "page", DEPLOYMENT)], "page.jsonl");
    const created: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const batch = await versioned.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      created.push(batch.id);
    }
    const first = await versioned.batches.list({ limit: 2 });
    expect(first.data.map((batch) => batch.id)).toEqual([created[2], created[1]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const batch of v1.batches.list({ limit: 2 })) all.push(batch.id);
    expect(all.slice(0, 3)).toEqual([...created].reverse());
    expect(all).toHaveLength(emulator.batchCount("azure"));
  });

  it("cancels: cancelling, then cancelled with the finished part", async () => {
    const file = await upload(
      versioned,
      [chatLine("c1", "one", DEPLOYMENT), chatLine("c2", "two", DEPLOYMENT)],
      "cancel.jsonl",
    );
    const batch = await versioned.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    clock.advance(600);
    expect((await versioned.batches.cancel(batch.id)).status).toBe("cancelling");
    clock.advance(1_000);
    expect((await versioned.batches.retrieve(batch.id)).status).toBe("cancelled");
  });

  it("fails a job at validation for Azure's reasons: a window other than 24h, lines with different urls", async () => {
    const file = await upload(versioned, [chatLine("w", "window", DEPLOYMENT)], "window.jsonl");
    const window = await versioned.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "48h" as "24h",
    });
    const mixed = await upload(
      versioned,
      [chatLine("u1", "one", DEPLOYMENT), chatLine("u2", "two", DEPLOYMENT, "/chat/completions")],
      "mixed.jsonl",
    );
    const urls = await versioned.batches.create({
      input_file_id: mixed.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    clock.advance(600);
    expect((await versioned.batches.retrieve(window.id)).status).toBe("failed");
    expect((await versioned.batches.retrieve(urls.id)).errors?.data?.[0]).toMatchObject({
      code: "url_mismatch",
      line: 2,
    });
  });

  it("takes file expiries, and refuses uploads past the quota of files without one", async () => {
    const preview = new AzureOpenAI({
      apiKey: KEY,
      endpoint: emulator.baseURL("azure"),
      apiVersion: "2025-04-01-preview",
      maxRetries: 0,
    });
    const expiring = await preview.files.create({
      file: new File([jsonl([chatLine("e", "expiry", DEPLOYMENT)])], "expiring.jsonl"),
      purpose: "batch",
      expires_after: { anchor: "created_at", seconds: 1_209_600 },
    });
    expect(expiring.expires_at).toBe(expiring.created_at + 1_209_600);
    await expect(
      preview.files.create({
        file: new File([jsonl([chatLine("e", "expiry", DEPLOYMENT)])], "short.jsonl"),
        purpose: "batch",
        expires_after: { anchor: "created_at", seconds: 3_600 },
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    const azure = emulator.providers.azure;
    const saved = azure.fileQuota.withoutExpiry;
    azure.fileQuota.withoutExpiry = azure.files
      .list()
      .filter((entry) => entry.expiresAt === undefined).length;
    try {
      const refused = await upload(versioned, [chatLine("q", "quota", DEPLOYMENT)], "quota.jsonl").catch(
        (error) => error,
      );
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
        code: "quotaExceeded",
        message: expect.stringContaining("quota for files without expiry"),
      });
      // A file with an expiry counts against the other quota and is still taken.
      await preview.files.create({
        file: new File([jsonl([chatLine("q", "quota", DEPLOYMENT)])], "quota.jsonl"),
        purpose: "batch",
        expires_after: { anchor: "created_at", seconds: 2_592_000 },
      });
    } finally {
      azure.fileQuota.withoutExpiry = saved;
    }
  });

  it("shows the deployment trap: a client built with `deployment` sends batches where Azure serves none", async () => {
    const trapped = new AzureOpenAI({
      apiKey: KEY,
      endpoint: emulator.baseURL("azure"),
      apiVersion: "2024-10-21",
      deployment: DEPLOYMENT,
      maxRetries: 0,
    });
    const file = await upload(versioned, [chatLine("t", "trap", DEPLOYMENT)], "trap.jsonl");
    const error = await trapped.batches
      .create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(emulator.requestLog.at(-1)).toMatchObject({
      method: "POST",
      path: `/azure/openai/deployments/${DEPLOYMENT}/batches`,
      status: 404,
    });
  });

  it("answers a missing api-version, a wrong key and an unknown batch as Azure does", async () => {
    const bare = await fetch(`${emulator.baseURL("azure")}/openai/batches`, { headers: { "api-key": KEY } });
    expect(bare.status).toBe(404);
    expect(await bare.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
    const dated = await fetch(`${emulator.baseURL("azure")}/openai/v1/batches?api-version=2024-10-21`, {
      headers: { "api-key": KEY },
    });
    expect(dated.status).toBe(400);

    const stranger = new AzureOpenAI({
      apiKey: "wrong",
      endpoint: emulator.baseURL("azure"),
      apiVersion: "2024-10-21",
      maxRetries: 0,
    });
    const denied = await stranger.batches.list().catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((denied as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ code: "401" });
    // On the versioned API a bearer token is an Entra ID token, not the key.
    const bearer = await fetch(`${emulator.baseURL("azure")}/openai/batches?api-version=2024-10-21`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(bearer.status).toBe(401);
    await expect(versioned.batches.retrieve("batch_missing")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
