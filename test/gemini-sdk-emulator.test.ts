import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, type BatchJob, FunctionCallingConfigMode, GoogleGenAI, Type } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";

const KEY = "gemini-emulator-key";
const MODEL = "gemini-2.5-flash";
const DONE_MS = 10_000;

const line = (key: string, text: string) => ({
  key,
  request: { contents: [{ role: "user", parts: [{ text }] }] },
});
const jsonl = (lines: object[]) => `${lines.map((entry) => JSON.stringify(entry)).join("\n")}\n`;

/** @google/genai 2.32 pointed at the emulator with nothing but `httpOptions.baseUrl`. */
describe("the official @google/genai SDK against the Gemini emulator", () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let ai: GoogleGenAI;
  let directory: string;

  beforeAll(async () => {
    clock = new ManualClock();
    emulator = await Emulator.start({ clock, apiKeys: { gemini: KEY } });
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.baseURL("gemini") } });
    directory = await mkdtemp(join(tmpdir(), "relay-gemini-sdk-"));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function upload(name: string, content: string | Buffer) {
    const path = join(directory, name);
    await writeFile(path, content);
    return ai.files.upload({ file: path, config: { mimeType: "jsonl", displayName: name } });
  }

  it("uploads a JSONL file in one chunk and in 8 MiB chunks, and reads its metadata back", async () => {
    const small = jsonl([line("a", "first"), line("b", "second")]);
    const file = await upload("small.jsonl", small);
    expect(file).toMatchObject({
      displayName: "small.jsonl",
      mimeType: "jsonl",
      sizeBytes: String(Buffer.byteLength(small)),
      state: "ACTIVE",
      source: "UPLOADED",
    });
    expect(file.name).toMatch(/^files\/[a-z0-9]{12}$/);
    expect(Date.parse(file.expirationTime ?? "") - Date.parse(file.createTime ?? "")).toBe(48 * 60 * 60_000);
    expect(await ai.files.get({ name: file.name ?? "" })).toMatchObject({
      name: file.name,
      sizeBytes: file.sizeBytes,
    });

    // 9 MiB: the SDK sends 8 MiB, then the last 1 MiB with "upload, finalize".
    const before = emulator.requestLog.length;
    const big = await upload("big.jsonl", Buffer.alloc(9 * 1024 * 1024, 0x20));
    expect(big.sizeBytes).toBe(String(9 * 1024 * 1024));
    const calls = emulator.requestLog
      .slice(before)
      .filter((entry) => entry.path.endsWith("/upload/v1beta/files"));
    expect(calls.map((entry) => entry.status)).toEqual([200, 200, 200]);

    // Uploaded files cannot be downloaded; only generated ones can.
    await expect(
      ai.files.download({ file: file.name ?? "", downloadPath: join(directory, "nope.jsonl") }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("creates a batch from a file, follows it to SUCCEEDED, and downloads the responses file", async () => {
    const keys = ["one", "two", "three", "four"];
    const file = await upload("four.jsonl", jsonl(keys.map((key) => line(key, `question ${key}`))));
    const created = await ai.batches.create({
      model: MODEL,
      src: file.name ?? "",
      config: { displayName: "from-file" },
    });
    expect(created).toMatchObject({
      displayName: "from-file",
      state: "JOB_STATE_PENDING",
      model: `models/${MODEL}`,
    });
    expect(created.name).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(created.dest).toBeUndefined();

    clock.advance(1_000);
    expect((await ai.batches.get({ name: created.name ?? "" })).state).toBe("JOB_STATE_RUNNING");
    clock.advance(DONE_MS);
    const done = await ai.batches.get({ name: created.name ?? "" });
    expect(done.state).toBe("JOB_STATE_SUCCEEDED");
    expect(done.endTime).toBeTruthy();
    const fileName = done.dest?.fileName ?? "";
    expect(fileName).toBe(`files/batch-${(created.name ?? "").slice("batches/".length)}`);

    const downloadPath = join(directory, "responses.jsonl");
    await ai.files.download({ file: fileName, downloadPath });
    const lines = (await readFile(downloadPath, "utf8"))
      .trim()
      .split("\n")
      .map((text) => JSON.parse(text));
    expect(lines.map((entry) => entry.key).sort()).toEqual([...keys].sort());
    // Not in input order: results are joined on the key.
    expect(lines.map((entry) => entry.key)).not.toEqual(keys);
    const answer = lines.find((entry) => entry.key === "two");
    expect(answer.response.candidates[0]).toMatchObject({ finishReason: "STOP", content: { role: "model" } });
    expect(answer.response.candidates[0].content.parts[0].text).toContain("question two");
    expect(answer.response.usageMetadata.promptTokenCount).toBeGreaterThan(0);

    // The REST shape: the output both in metadata.output (what the SDK reads) and in the Operation's response.
    const raw = (await (
      await fetch(`${emulator.baseURL("gemini")}/v1beta/${created.name}`, {
        headers: { "x-goog-api-key": KEY },
      })
    ).json()) as Record<string, Record<string, unknown>>;
    expect(raw).toMatchObject({
      done: true,
      metadata: {
        state: "BATCH_STATE_SUCCEEDED",
        output: { responsesFile: fileName },
        batchStats: { requestCount: "4", successfulRequestCount: "4" },
      },
      response: {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
        responsesFile: fileName,
      },
    });
    // int64 counts are strings, and zero ones are left out (proto3 JSON).
    expect(raw.metadata?.batchStats).not.toHaveProperty("failedRequestCount");
    // The documented REST download path serves the same bytes.
    const viaDownloadPath = await fetch(
      `${emulator.baseURL("gemini")}/download/v1beta/${fileName}:download?alt=media`,
      { headers: { "x-goog-api-key": KEY } },
    );
    expect(await viaDownloadPath.text()).toBe(await readFile(downloadPath, "utf8"));
  });

  it("creates a batch with inline requests; the inlined responses carry each request's metadata", async () => {
    const created = await ai.batches.create({
      model: MODEL,
      src: [
        { contents: [{ role: "user", parts: [{ text: "inline alpha" }] }], metadata: { key: "alpha" } },
        {
          contents: [{ role: "user", parts: [{ text: "inline beta" }] }],
          metadata: { key: "beta" },
          config: { maxOutputTokens: 3 },
        },
        { contents: "inline gamma", metadata: { key: "gamma" } },
      ],
      config: { displayName: "inline" },
    });
    clock.advance(DONE_MS);
    const done = await ai.batches.get({ name: created.name ?? "" });
    expect(done.state).toBe("JOB_STATE_SUCCEEDED");
    const responses = done.dest?.inlinedResponses ?? [];
    expect(responses.map((response) => response.metadata?.key).sort()).toEqual(["alpha", "beta", "gamma"]);
    const byKey = new Map(responses.map((response) => [response.metadata?.key, response]));
    expect(byKey.get("alpha")?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toContain(
      "inline alpha",
    );
    expect(byKey.get("beta")?.response?.candidates?.[0]?.finishReason).toBe("MAX_TOKENS");
    expect(byKey.get("beta")?.response?.usageMetadata?.candidatesTokenCount).toBe(3);
    expect(byKey.get("gamma")?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toContain(
      "inline gamma",
    );
  });

  it("lists batches newest first, page by page, without their inlined responses", async () => {
    const names: string[] = [];
    for (const index of [1, 2, 3]) {
      clock.advance(1_000);
      const batch = await ai.batches.create({
        model: MODEL,
        src: [{ contents: `listed ${index}`, metadata: { key: `k${index}` } }],
        config: { displayName: `listed-${index}` },
      });
      names.unshift(batch.name ?? "");
    }
    clock.advance(DONE_MS);
    const pager = await ai.batches.list({ config: { pageSize: 2 } });
    expect(pager.page.length).toBe(2);
    const listed: BatchJob[] = [];
    for await (const batch of pager) listed.push(batch);
    expect(listed.slice(0, 3).map((batch) => batch.name)).toEqual(names);
    expect(listed.length).toBeGreaterThanOrEqual(5);
    expect(new Set(listed.map((batch) => batch.name)).size).toBe(listed.length);
    const inline = listed.find((batch) => batch.displayName === "inline");
    expect(inline?.state).toBe("JOB_STATE_SUCCEEDED");
    expect(inline?.dest?.inlinedResponses).toBeUndefined();
    expect(listed.find((batch) => batch.displayName === "from-file")?.dest?.fileName).toMatch(
      /^files\/batch-/,
    );
  });

  it("cancels a running batch: it stays running until the cancel has taken, then is CANCELLED", async () => {
    const created = await ai.batches.create({
      model: MODEL,
      src: Array.from({ length: 4 }, (_, index) => ({
        contents: `cancel ${index}`,
        metadata: { key: `c${index}` },
      })),
      config: { displayName: "to-cancel" },
    });
    clock.advance(1_600);
    await ai.batches.cancel({ name: created.name ?? "" });
    expect((await ai.batches.get({ name: created.name ?? "" })).state).toBe("JOB_STATE_RUNNING");
    clock.advance(DONE_MS);
    const cancelled = await ai.batches.get({ name: created.name ?? "" });
    expect(cancelled.state).toBe("JOB_STATE_CANCELLED");
    // The requests finished before the cancel keep their responses.
    expect(cancelled.dest?.inlinedResponses?.map((response) => response.metadata?.key).sort()).toEqual([
      "c0",
      "c1",
    ]);
    await expect(ai.batches.cancel({ name: created.name ?? "" })).rejects.toMatchObject({ status: 400 });
    await ai.batches.delete({ name: created.name ?? "" });
    await expect(ai.batches.get({ name: created.name ?? "" })).rejects.toMatchObject({ status: 404 });
  });

  it("answers errors in Google's shape: a wrong key, an unknown batch, an unknown field, an unknown model", async () => {
    const wrong = new GoogleGenAI({
      apiKey: "not-the-key",
      httpOptions: { baseUrl: emulator.baseURL("gemini") },
    });
    const refused = await wrong.batches.get({ name: "batches/whatever" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400 });
    const body = JSON.parse((refused as ApiError).message);
    expect(body.error).toMatchObject({
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "API key not valid. Please pass a valid API key.",
    });
    expect(body.error.details[0]).toMatchObject({ reason: "API_KEY_INVALID" });

    await expect(ai.batches.get({ name: "batches/unknown" })).rejects.toMatchObject({ status: 404 });
    const unknownField = await ai.batches
      .create({
        model: MODEL,
        src: [{ contents: "x", config: { temperature: 3 } }],
        config: { displayName: "bad" },
      })
      .catch((error: unknown) => error);
    expect(unknownField).toMatchObject({ status: 400 });
    expect((unknownField as ApiError).message).toContain("temperature");
    await expect(
      ai.batches.create({ model: "gpt-4o-mini", src: [{ contents: "x" }], config: { displayName: "bad" } }),
    ).rejects.toMatchObject({ status: 404 });
  });
  it("creates embeddings batches with createEmbeddings, from a file and inline, and serves their vectors", async () => {
    const embedLine = (key: string, text: string) => ({
      key,
      request: { content: { parts: [{ text }] }, output_dimensionality: 8 },
    });
    const file = await upload("embed.jsonl", jsonl([embedLine("v1", "first"), embedLine("v2", "second")]));
    const fromFile = await ai.batches.createEmbeddings({
      model: "gemini-embedding-001",
      src: { fileName: file.name ?? "" },
      config: { displayName: "embed-file" },
    });
    expect(fromFile).toMatchObject({ state: "JOB_STATE_PENDING", model: "models/gemini-embedding-001" });
    const inline = await ai.batches.createEmbeddings({
      model: "gemini-embedding-001",
      src: { inlinedRequests: { contents: ["alpha", "beta", "gamma"], config: { outputDimensionality: 4 } } },
      config: { displayName: "embed-inline" },
    });
    clock.advance(DONE_MS);

    const doneFile = await ai.batches.get({ name: fromFile.name ?? "" });
    expect(doneFile.state).toBe("JOB_STATE_SUCCEEDED");
    const downloadPath = join(directory, "vectors.jsonl");
    await ai.files.download({ file: doneFile.dest?.fileName ?? "", downloadPath });
    const lines = (await readFile(downloadPath, "utf8"))
      .trim()
      .split("\n")
      .map((text) => JSON.parse(text));
    expect(lines.map((entry) => entry.key).sort()).toEqual(["v1", "v2"]);
    for (const entry of lines) {
      expect(entry.response.embedding.values).toHaveLength(8);
      expect(entry.response.tokenCount).toMatch(/^\d+$/);
    }

    const doneInline = await ai.batches.get({ name: inline.name ?? "" });
    const vectors = doneInline.dest?.inlinedEmbedContentResponses ?? [];
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) expect(vector.response?.embedding?.values).toHaveLength(4);
    const raw = (await (
      await fetch(`${emulator.baseURL("gemini")}/v1beta/${inline.name}`, {
        headers: { "x-goog-api-key": KEY },
      })
    ).json()) as { metadata: Record<string, unknown>; response: Record<string, unknown> };
    expect(raw.metadata["@type"]).toBe(
      "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatch",
    );
    expect(raw.response["@type"]).toBe(
      "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatchOutput",
    );

    await expect(
      ai.batches.createEmbeddings({ model: MODEL, src: { fileName: file.name ?? "" } }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("takes the SDK's own response schemas, function declarations, tool config and image parts", async () => {
    const created = await ai.batches.create({
      model: MODEL,
      src: [
        {
          contents: [
            {
              role: "user",
              parts: [
                { text: "Name the colour." },
                { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
              ],
            },
          ],
          config: {
            responseMimeType: "application/json",
            responseSchema: {
              type: Type.OBJECT,
              properties: { colour: { type: Type.STRING, enum: ["red", "blue"], format: "enum" } },
              propertyOrdering: ["colour"],
              required: ["colour"],
            },
          },
          metadata: { key: "json" },
        },
        {
          contents: "What is the weather in Paris?",
          config: {
            tools: [
              {
                functionDeclarations: [
                  {
                    name: "get_weather",
                    parameters: {
                      type: Type.OBJECT,
                      properties: { city: { type: Type.STRING } },
                      required: ["city"],
                    },
                  },
                ],
              },
            ],
            toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } },
          },
          metadata: { key: "call" },
        },
      ],
      config: { displayName: "kinds" },
    });
    clock.advance(DONE_MS);
    const done = await ai.batches.get({ name: created.name ?? "" });
    const byKey = new Map(
      (done.dest?.inlinedResponses ?? []).map((entry) => [entry.metadata?.key, entry.response]),
    );
    const json = JSON.parse(byKey.get("json")?.candidates?.[0]?.content?.parts?.[0]?.text ?? "null");
    expect(["red", "blue"]).toContain(json.colour);
    expect(byKey.get("json")?.usageMetadata?.promptTokensDetails).toContainEqual({
      modality: "IMAGE",
      tokenCount: 258,
    });
    const call = byKey.get("call")?.candidates?.[0]?.content?.parts?.[0]?.functionCall;
    expect(call?.name).toBe("get_weather");
    expect(typeof call?.args?.city).toBe("string");
  });

  // Last: it moves the clock two days on.
  it("deletes uploaded files after 48 hours: they can no longer be read or batched", async () => {
    const file = await upload("short-lived.jsonl", jsonl([line("z", "late")]));
    clock.advance(48 * 60 * 60_000);
    await expect(ai.files.get({ name: file.name ?? "" })).rejects.toMatchObject({ status: 403 });
    await expect(
      ai.batches.create({ model: MODEL, src: file.name ?? "", config: { displayName: "too-late" } }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
