import { Mistral } from "@mistralai/mistralai";
import { MistralError } from "@mistralai/mistralai/models/errors";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { ENOUGH_TIME_MS } from "./support/harness.js";
import { loadSpec, type OpenApiSpecValidator, sharedDir } from "./support/openapi.js";

const KEY = "mistral-emulator-key";
const MODEL = "mistral-small-latest";
const jsonl = (lines: object[]) => `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
const chatLine = (customId: string, prompt: string) => ({
  custom_id: customId,
  body: { max_tokens: 100, messages: [{ role: "user", content: prompt }] },
});

async function streamText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("the official @mistralai/mistralai SDK against the Mistral emulator, unchanged", () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let sdk: Mistral;
  let spec: OpenApiSpecValidator | null;

  beforeAll(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock, apiKeys: { mistral: KEY } });
    // The SDK's own convention: serverURL is the host root; it appends /v1/… itself.
    sdk = new Mistral({ apiKey: KEY, serverURL: emulator.baseURL("mistral") });
    spec = await loadSpec("mistral-openapi.yaml");
    if (!spec) {
      const why = sharedDir() ? "mistral-openapi.yaml is missing from the specs" : "no shared directory";
      console.warn(`Mistral schema checks skipped: ${why}`);
    }
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.faults.clear();
  });

  /** The same object as the wire carries it (the SDK renames fields), checked against Mistral's spec. */
  async function raw(path: string, schema: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${emulator.baseURL("mistral")}${path}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    if (spec) expect(spec.validate(schema, body), `${path} as ${schema}`).toEqual([]);
    return body;
  }

  async function upload(content: string, fileName = "batch_input.jsonl") {
    return sdk.files.upload({ file: { fileName, content: Buffer.from(content) }, purpose: "batch" });
  }

  it("uploads, lists with paging, retrieves, downloads and deletes files", async () => {
    const content = jsonl([chatLine("a", "first"), chatLine("b", "second")]);
    const file = await upload(content);
    expect(file).toMatchObject({
      object: "file",
      sizeBytes: Buffer.byteLength(content),
      filename: "batch_input.jsonl",
      purpose: "batch",
      sampleType: "batch_request",
      source: "upload",
      numLines: 2,
      mimetype: "application/jsonl",
    });
    expect(file.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Number.isInteger(file.sizeBytes)).toBe(true);

    const retrieved = await sdk.files.retrieve({ fileId: file.id });
    expect(retrieved).toMatchObject({ id: file.id, deleted: false, sizeBytes: file.sizeBytes });
    await raw(`/v1/files/${file.id}`, "RetrieveFileOut");
    expect(await streamText(await sdk.files.download({ fileId: file.id }))).toBe(content);

    // Paging: page numbers from 0, newest first, with the total of every matching file.
    const second = await upload(jsonl([chatLine("c", "third")]), "second.jsonl");
    const third = await upload(jsonl([chatLine("d", "fourth")]), "third.jsonl");
    const first = await sdk.files.list({ page: 0, pageSize: 2, purpose: "batch" });
    const next = await sdk.files.list({ page: 1, pageSize: 2, purpose: "batch" });
    expect(first.total).toBe(3);
    expect(first.data.map((entry) => entry.id)).toEqual([third.id, second.id]);
    expect(next.data.map((entry) => entry.id)).toEqual([file.id]);
    expect((await sdk.files.list({ search: "second" })).data.map((entry) => entry.id)).toEqual([second.id]);
    await raw("/v1/files?page=0&page_size=2", "ListFilesOut");

    const signed = await sdk.files.getSignedUrl({ fileId: file.id, expiry: 1 });
    expect(await (await fetch(signed.url)).text()).toBe(content);

    expect(await sdk.files.delete({ fileId: third.id })).toEqual({
      id: third.id,
      object: "file",
      deleted: true,
    });
    await expect(sdk.files.retrieve({ fileId: third.id })).rejects.toMatchObject({ statusCode: 404 });
  });

  it("creates a job from files with metadata, follows it to SUCCESS and downloads its output", async () => {
    const file = await upload(jsonl([chatLine("r1", "one"), chatLine("r2", "two"), chatLine("r3", "three")]));
    const created = await sdk.batch.jobs.create({
      inputFiles: [file.id],
      model: MODEL,
      endpoint: "/v1/chat/completions",
      metadata: { job_type: "testing" },
    });
    expect(created).toMatchObject({
      object: "batch",
      status: "QUEUED",
      inputFiles: [file.id],
      model: MODEL,
      metadata: { job_type: "testing" },
      totalRequests: 3,
      succeededRequests: 0,
      errors: [],
    });
    expect(created.outputFile ?? null).toBeNull();
    await raw(`/v1/batch/jobs/${created.id}`, "BatchJobOut");

    clock.advance(1_200);
    const running = await sdk.batch.jobs.get({ jobId: created.id });
    expect(running.status).toBe("RUNNING");
    expect(running.startedAt).toBe(Math.floor((clock.now() - 700) / 1000));
    // Results exist only once the whole job has finished.
    expect(running.outputFile ?? null).toBeNull();

    clock.advance(ENOUGH_TIME_MS);
    const done = await sdk.batch.jobs.get({ jobId: created.id });
    expect(done).toMatchObject({
      status: "SUCCESS",
      totalRequests: 3,
      completedRequests: 3,
      succeededRequests: 3,
      failedRequests: 0,
    });
    expect(done.completedAt).toBeGreaterThanOrEqual(done.createdAt);
    expect(done.errorFile ?? null).toBeNull();
    await raw(`/v1/batch/jobs/${created.id}`, "BatchJobOut");

    const output = await sdk.files.retrieve({ fileId: done.outputFile as string });
    expect(output).toMatchObject({
      purpose: "batch",
      sampleType: "batch_result",
      source: "mistral",
      numLines: 3,
    });
    expect(Number.isInteger(output.sizeBytes)).toBe(true);
    const lines = (await streamText(await sdk.files.download({ fileId: output.id })))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    // Out of input order, as the providers write them.
    expect(lines.map((line) => line.custom_id)).toEqual(["r3", "r1", "r2"]);
    for (const line of lines) {
      expect(line).toMatchObject({
        response: { status_code: 200, body: { object: "chat.completion", model: MODEL } },
        error: null,
      });
      expect(line.id).toMatch(/^batch-[0-9a-f]{8}-\d+-[0-9a-f-]{36}$/);
      if (spec) {
        const body = line.response.body;
        expect(spec.validate("UsageInfo", body.usage)).toEqual([]);
        expect(spec.validate("ChatCompletionChoice", body.choices[0])).toEqual([]);
        // Quirk: ChatCompletionResponse requires a `data` field that no real chat completion carries.
        expect(spec.validate("ChatCompletionResponse", body)).toEqual([
          "(root) must have required property 'data'",
        ]);
      }
    }
  });

  it("creates an inline job from {customId, body}: custom_ids arrive, and the outputs come with the job", async () => {
    const created = await sdk.batch.jobs.create({
      requests: [
        { customId: "x-1", body: { max_tokens: 50, messages: [{ role: "user", content: "inline one" }] } },
        { customId: "x-2", body: { messages: [{ role: "user", content: "inline two" }] } },
      ],
      model: MODEL,
      endpoint: "/v1/chat/completions",
    });
    expect(created).toMatchObject({ status: "QUEUED", totalRequests: 2, inputFiles: [] });
    clock.advance(ENOUGH_TIME_MS);
    const done = await sdk.batch.jobs.get({ jobId: created.id });
    expect(done.status).toBe("SUCCESS");
    const outputs = done.outputs ?? [];
    expect(outputs.map((entry) => entry.custom_id).sort()).toEqual(["x-1", "x-2"]);
    expect(outputs[0]?.response?.body?.choices?.[0]?.message?.content).toContain("inline");
    // Asked not to, the job leaves its outputs out; the output file holds them either way.
    expect((await sdk.batch.jobs.get({ jobId: created.id, inline: false })).outputs ?? null).toBeNull();
    expect(done.outputFile).toBeTruthy();
    await raw(`/v1/batch/jobs/${created.id}?inline=true`, "BatchJobOut");
  });

  it("drops a snake_case custom_id given to the SDK, as its schema strips unknown keys", async () => {
    const body = { messages: [{ role: "user", content: "which id?" }] };
    const created = await sdk.batch.jobs.create({
      requests: [{ custom_id: "lost", body } as never, { customId: "kept", body }],
      model: MODEL,
      endpoint: "/v1/chat/completions",
    });
    clock.advance(ENOUGH_TIME_MS);
    const done = await sdk.batch.jobs.get({ jobId: created.id });
    expect((done.outputs ?? []).map((entry) => entry.custom_id).sort()).toEqual(["kept", null]);
  });

  it("lists jobs newest first with page, page_size and total, and filters by status", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const job = await sdk.batch.jobs.create({
        requests: [
          { customId: `p-${index}`, body: { messages: [{ role: "user", content: `page ${index}` }] } },
        ],
        model: "open-mistral-nemo",
        endpoint: "/v1/chat/completions",
      });
      ids.push(job.id);
      clock.advance(1_000);
    }
    const page0 = await sdk.batch.jobs.list({ model: "open-mistral-nemo", page: 0, pageSize: 2 });
    const page1 = await sdk.batch.jobs.list({ model: "open-mistral-nemo", page: 1, pageSize: 2 });
    expect(page0.total).toBe(3);
    expect(page0.data?.map((job) => job.id)).toEqual([ids[2], ids[1]]);
    expect(page1.data?.map((job) => job.id)).toEqual([ids[0]]);
    const oldestFirst = await sdk.batch.jobs.list({ model: "open-mistral-nemo", orderBy: "created" });
    expect(oldestFirst.data?.map((job) => job.id)).toEqual(ids);
    await raw("/v1/batch/jobs?page=0&page_size=2", "BatchJobsOut");

    // Created 1 s apart, one request each: the oldest has finished, the other two are running.
    const running = await sdk.batch.jobs.list({ model: "open-mistral-nemo", status: ["RUNNING"] });
    expect(running.data?.map((job) => [job.id, job.status])).toEqual([
      [ids[2], "RUNNING"],
      [ids[1], "RUNNING"],
    ]);
    const either = await sdk.batch.jobs.list({ model: "open-mistral-nemo", status: ["SUCCESS", "RUNNING"] });
    expect(either.total).toBe(3);
    expect((await sdk.batch.jobs.list({ model: "open-mistral-nemo", status: ["FAILED"] })).total).toBe(0);
  });

  it("cancels a running job: CANCELLATION_REQUESTED, then CANCELLED; an ended job refuses", async () => {
    const file = await upload(jsonl(["1", "2", "3", "4"].map((id) => chatLine(`c${id}`, `cancel ${id}`))));
    const job = await sdk.batch.jobs.create({
      inputFiles: [file.id],
      model: MODEL,
      endpoint: "/v1/chat/completions",
    });
    clock.advance(500 + 1_100);
    const cancelling = await sdk.batch.jobs.cancel({ jobId: job.id });
    expect(cancelling.status).toBe("CANCELLATION_REQUESTED");
    clock.advance(ENOUGH_TIME_MS);
    const cancelled = await sdk.batch.jobs.get({ jobId: job.id });
    expect(cancelled).toMatchObject({ status: "CANCELLED", succeededRequests: 2, completedRequests: 2 });
    const lines = (await streamText(await sdk.files.download({ fileId: cancelled.outputFile as string })))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).custom_id);
    expect(lines.sort()).toEqual(["c1", "c2"]);
    await expect(sdk.batch.jobs.cancel({ jobId: job.id })).rejects.toMatchObject({ statusCode: 400 });
  });

  it("refuses what Mistral refuses: a wrong key, a malformed id, an unknown job, a bad body", async () => {
    const wrong = new Mistral({ apiKey: "not-the-key", serverURL: emulator.baseURL("mistral") });
    const denied = await wrong.batch.jobs.list().catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(MistralError);
    expect(denied).toMatchObject({ statusCode: 401 });
    expect(JSON.parse((denied as MistralError).body)).toEqual({ detail: "Unauthorized" });

    await expect(sdk.batch.jobs.get({ jobId: "not-a-uuid" })).rejects.toMatchObject({ statusCode: 422 });
    await expect(sdk.batch.jobs.get({ jobId: "00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject(
      { statusCode: 404 },
    );

    const tooLong = await sdk.batch.jobs
      .create({
        requests: [{ body: { messages: [{ role: "user", content: "x" }] } }],
        model: MODEL,
        endpoint: "/v1/chat/completions",
        metadata: { "a-key-longer-than-thirty-two-characters": "v" },
        timeoutHours: 24 * 7,
      })
      .catch((error: unknown) => error);
    expect(tooLong).toMatchObject({ statusCode: 422 });
    const detail = JSON.parse((tooLong as MistralError).body).message.detail;
    expect(detail.map((entry: { type: string }) => entry.type)).toEqual(["string_too_long", "less_than"]);

    const empty = await sdk.batch.jobs
      .create({ inputFiles: [], endpoint: "/v1/chat/completions", model: MODEL })
      .catch((error: unknown) => error);
    expect(empty).toMatchObject({ statusCode: 400 });
  });

  it("fails a request whose body the chat endpoint would refuse, alone, with its 422 in the error file", async () => {
    const file = await upload(
      jsonl([
        chatLine("good", "fine"),
        { custom_id: "bad", body: { max_completion_tokens: 10, messages: [{ role: "user", content: "x" }] } },
      ]),
    );
    const job = await sdk.batch.jobs.create({
      inputFiles: [file.id],
      model: MODEL,
      endpoint: "/v1/chat/completions",
    });
    clock.advance(ENOUGH_TIME_MS);
    const done = await sdk.batch.jobs.get({ jobId: job.id });
    expect(done).toMatchObject({ status: "SUCCESS", succeededRequests: 1, failedRequests: 1 });
    const errors = (await streamText(await sdk.files.download({ fileId: done.errorFile as string })))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(errors).toEqual([
      expect.objectContaining({
        custom_id: "bad",
        response: {
          status_code: 422,
          body: expect.objectContaining({
            object: "error",
            message: {
              detail: [
                expect.objectContaining({ type: "extra_forbidden", loc: ["body", "max_completion_tokens"] }),
              ],
            },
          }),
        },
      }),
    ]);
  });
});
