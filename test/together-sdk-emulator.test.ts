import Together from "together-ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { loadSpec, type OpenApiSpecValidator, sharedDir } from "./support/openapi.js";

const KEY = "tg-emulator-key";
const jsonl = (lines: object[]) => `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
const chatLine = (customId: string, prompt: string, model = "meta-llama/Llama-3.3-70B-Instruct-Turbo") => ({
  custom_id: customId,
  body: { model, messages: [{ role: "user", content: prompt }], max_tokens: 50 },
});

describe("the official together-ai SDK and raw HTTP against the Together emulator", () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let sdk: Together;
  let spec: OpenApiSpecValidator | null;

  beforeAll(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock });
    sdk = new Together({ apiKey: KEY, baseURL: emulator.baseURL("together"), maxRetries: 0 });
    spec = await loadSpec("together-openapi.yaml");
    if (!spec) {
      const why = sharedDir()
        ? "together-openapi.yaml is missing from ../shared/specs"
        : "no ../shared directory";
      console.warn(`Together schema checks skipped: ${why}`);
    }
  });
  afterAll(async () => {
    await emulator.close();
  });

  function expectSchema(schema: string, value: unknown) {
    if (!spec) return;
    expect(spec.validate(schema, JSON.parse(JSON.stringify(value))), schema).toEqual([]);
  }

  const api = (path: string) => `${emulator.baseURL("together")}${path}`;
  const auth = { authorization: `Bearer ${KEY}` };

  /** The SDK helper's three steps, over raw HTTP (the helper itself ignores baseURL and crashes on Node 20). */
  async function presignedUpload(content: string, fileName = "batch_input.jsonl") {
    const params = new URLSearchParams({ file_name: fileName, file_type: "jsonl", purpose: "batch-api" });
    const start = await fetch(`${api("/files")}?${params}`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
      redirect: "manual",
      body: params.toString(),
    });
    expect(start.status).toBe(302);
    const location = start.headers.get("location");
    const fileId = start.headers.get("x-together-file-id");
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/together\/upload\//);
    expect(fileId).toMatch(/^file-/);
    const put = await fetch(location as string, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: content,
    });
    expect(put.status).toBe(200);
    return sdk.files.retrieve(fileId as string);
  }

  it("uploads with the presigned three-step flow, then reads the file back", async () => {
    const content = jsonl([chatLine("a", "first"), chatLine("b", "second")]);
    const file = await presignedUpload(content);
    expect(file).toMatchObject({
      object: "file",
      purpose: "batch-api",
      filename: "batch_input.jsonl",
      bytes: Buffer.byteLength(content),
      Processed: true,
      FileType: "jsonl",
    });
    expectSchema("FileResponse", file);
    expect(await (await sdk.files.content(file.id)).text()).toBe(content);
    const list = await sdk.files.list();
    expect(list.data.map((entry) => entry.id)).toContain(file.id);
    expectSchema("FileList", list);
  });

  it("uploads with the multipart POST /files/upload of the spec", async () => {
    const content = jsonl([chatLine("m", "multipart")]);
    const form = new FormData();
    form.set("purpose", "batch-api");
    form.set("file_name", "multi.jsonl");
    form.set("file_type", "jsonl");
    form.set("file", new Blob([content]), "multi.jsonl");
    const response = await fetch(api("/files/upload"), { method: "POST", headers: auth, body: form });
    expect(response.status).toBe(200);
    const file = (await response.json()) as { id: string };
    expect(file).toMatchObject({
      object: "file",
      filename: "multi.jsonl",
      bytes: Buffer.byteLength(content),
      Processed: true,
    });
    expectSchema("FileResponse", file);
    const deleted = await sdk.files.delete(file.id);
    expect(deleted).toEqual({ id: file.id, deleted: true });
    expectSchema("FileDeleteResponse", deleted);
    await expect(sdk.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });

  it("creates a batch with the SDK and follows it from VALIDATING to COMPLETED", async () => {
    const file = await presignedUpload(
      jsonl([chatLine("r1", "one"), chatLine("r2", "two"), chatLine("r3", "three")]),
    );
    const created = await sdk.batches.create({ endpoint: "/v1/chat/completions", input_file_id: file.id });
    expectSchema("BatchJobWithWarning", created);
    const job = created.job;
    expect(job).toMatchObject({
      status: "VALIDATING",
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      progress: 0,
      model_id: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
      file_size_bytes: file.bytes,
    });
    expect(job?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Date.parse(job?.job_deadline ?? "") - Date.parse(job?.created_at ?? "")).toBe(24 * 3600_000);
    expect(job).not.toHaveProperty("completed_at");
    expect(job).not.toHaveProperty("output_file_id");
    const id = job?.id as string;

    clock.advance(500 + 700);
    const running = await sdk.batches.retrieve(id);
    expectSchema("BatchJob", running);
    expect(running.status).toBe("IN_PROGRESS");
    expect(running.progress).toBeGreaterThan(0);
    expect(running.progress).toBeLessThan(100);

    clock.advance(60_000);
    const done = await sdk.batches.retrieve(id);
    expectSchema("BatchJob", done);
    expect(done).toMatchObject({ status: "COMPLETED", progress: 100 });
    expect(done.completed_at).toBeDefined();
    expect(done.error_file_id).toBeUndefined();

    const output = await sdk.files.retrieve(done.output_file_id as string);
    expectSchema("FileResponse", output);
    expect(output.purpose).toBe("batch-generated");
    const lines = (await (await sdk.files.content(output.id)).text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.custom_id).sort()).toEqual(["r1", "r2", "r3"]);
    for (const line of lines) {
      expect(line.response.status_code).toBe(200);
      expect(line.response.body.choices[0].message.content).toContain("You said:");
    }

    const listed = await sdk.batches.list();
    expect(Array.isArray(listed)).toBe(true);
    expect(listed.map((entry) => entry.id)).toContain(id);
    for (const entry of listed) expectSchema("BatchJob", entry);
  });

  it("writes failed requests to an error file in Together's shape", async () => {
    const file = await presignedUpload(
      jsonl([chatLine("ok", "fine"), chatLine("bad", "broken [emulator:fail]")]),
    );
    const { job } = await sdk.batches.create({ endpoint: "/v1/chat/completions", input_file_id: file.id });
    clock.advance(60_000);
    const done = await sdk.batches.retrieve(job?.id as string);
    expect(done.status).toBe("COMPLETED");
    const errors = (await (await sdk.files.content(done.error_file_id as string)).text()).trim().split("\n");
    expect(errors.map((line) => JSON.parse(line))).toEqual([
      { custom_id: "bad", error: { message: expect.any(String), code: "emulated_failure" } },
    ]);
  });

  it("fails a batch whose file mixes models, with the reason in `error`", async () => {
    const file = await presignedUpload(
      jsonl([chatLine("x", "one", "model-a"), chatLine("y", "two", "model-b")]),
    );
    const { job } = await sdk.batches.create({ endpoint: "/v1/chat/completions", input_file_id: file.id });
    clock.advance(60_000);
    const failed = await sdk.batches.retrieve(job?.id as string);
    expectSchema("BatchJob", failed);
    expect(failed).toMatchObject({ status: "FAILED", progress: 0 });
    expect(failed.error).toMatch(/same model/);
    expect(failed.output_file_id).toBeUndefined();
  });

  it("cancels a running batch; a second cancel is refused with a BatchErrorResponse", async () => {
    const file = await presignedUpload(
      jsonl([chatLine("c1", "one"), chatLine("c2", "two"), chatLine("c3", "three")]),
    );
    const { job } = await sdk.batches.create({ endpoint: "/v1/chat/completions", input_file_id: file.id });
    const id = job?.id as string;
    clock.advance(500 + 700);
    const cancelled = await sdk.batches.cancel(id);
    expectSchema("BatchJob", cancelled);
    expect(cancelled.status).toBe("CANCELLED");
    expect(cancelled.progress).toBeCloseTo(100 / 3);
    const errors = (await (await sdk.files.content(cancelled.error_file_id as string)).text())
      .trim()
      .split("\n");
    expect(errors.map((line) => JSON.parse(line).error.code)).toEqual(["batch_cancelled", "batch_cancelled"]);

    const again = await fetch(api(`/batches/${id}/cancel`), { method: "POST", headers: auth });
    expect(again.status).toBe(400);
    const body = (await again.json()) as { error: unknown };
    expect(typeof body.error).toBe("string");
    expectSchema("BatchErrorResponse", body);
    await expect(sdk.batches.cancel(id)).rejects.toMatchObject({ status: 400 });
  });

  it("refuses unknown batches and files, bad input files and missing keys", async () => {
    const missing = await fetch(api("/batches/00000000-0000-4000-8000-000000000000"), { headers: auth });
    expect(missing.status).toBe(404);
    expectSchema("BatchErrorResponse", await missing.json());

    const noFile = await fetch(api("/batches"), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ endpoint: "/v1/chat/completions", input_file_id: "file-nope" }),
    });
    expect(noFile.status).toBe(404);
    expect(typeof ((await noFile.json()) as { error: unknown }).error).toBe("string");

    const fileMissing = await fetch(api("/files/file-nope"), { headers: auth });
    expect(fileMissing.status).toBe(404);
    expectSchema("ErrorData", await fileMissing.json());

    const before = emulator.batchCount("together");
    const noKey = await fetch(api("/batches"), { method: "POST", body: "{}" });
    expect(noKey.status).toBe(401);
    expectSchema("BatchErrorResponse", await noKey.json());
    const noKeyFiles = await fetch(api("/files"), {});
    expect(noKeyFiles.status).toBe(401);
    expectSchema("ErrorData", await noKeyFiles.json());
    expect(emulator.batchCount("together")).toBe(before);
  });
});
