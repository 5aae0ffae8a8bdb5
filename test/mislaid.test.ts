/**
 * Paths by which results could go missing or wrong: a resumed download, names that collide, records that lie
 * about their job, IDs that do not survive UTF-8, stored results that do not match their job, answers about
 * another batch, and a workspace directory that is not there yet.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CorruptWorkspaceError,
  ProviderError,
  RelayClient,
  RelayError,
  ValidationError,
} from "../src/index.js";
import { providerEntry } from "../src/providers/registry.js";
import type { ProviderName } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

/** Where each provider's results are downloaded from, for cutting that download midway. */
/**
 * Where each provider serves a finished batch's results (typed by every provider, so none is left out). Gemini's
 * small shards run inline, their results inside the batch's own answer: a cut of it is tested in gemini-flow
 * ("reads inlined responses again after a cut answer"); its responses files are read like the others.
 */
const RESULT_DOWNLOADS: Record<Exclude<ProviderName, "gemini">, RegExp> = {
  openai: /\/files\/[^/]+\/content$/,
  anthropic: /\/results$/,
  together: /\/files\/[^/]+\/content$/,
  mistral: /\/files\/[^/]+\/content$/,
  groq: /\/files\/[^/]+\/content$/,
  azure: /\/files\/[^/]+\/content$/,
  xai: /\/results$/,
};

const idsOf = (results: { id: string }[]) => results.map((result) => result.id);

describe("a results download cut midway is resumed by identity, never by position", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ reorderRedownloads: true });
  });
  afterEach(async () => {
    await harness.close();
  });

  it("the emulator serves a re-download in another order, so skipping by position would lose results", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(30), jobId: "order", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.monitorBatch("order");
    const fileId = (await client.getJob("order"))?.shards[0]?.output_file_id;
    const download = async () => {
      const response = await fetch(`${harness.emulator.baseURL("openai")}/files/${fileId}/content`, {
        headers: { authorization: `Bearer ${TEST_KEYS.openai}` },
      });
      const text = await response.text();
      return text
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
    };
    const first = await download();
    const second = await download();
    expect(second).not.toEqual(first);
    expect([...second].sort()).toEqual([...first].sort());

    // What a reader that skips the lines it already had by position ends up with, cut after 8 lines.
    const byPosition = [...first.slice(0, 8), ...second.slice(8)];
    const missing = first.filter((id) => !byPosition.includes(id));
    expect(missing.length).toBeGreaterThan(0);
    expect(new Set(byPosition).size).toBeLessThan(byPosition.length);
  });

  it.each(Object.keys(RESULT_DOWNLOADS) as (keyof typeof RESULT_DOWNLOADS)[])(
    "%s: every result once, none missing, when the re-download comes back in another order",
    async (provider) => {
      const client = harness.client();
      const requests = exampleRequests(40, providerEntry(provider).demoModel);
      await client.submitBatch({ requests, jobId: "cut", provider });
      harness.clock.advance(ENOUGH_TIME_MS);
      await client.monitorBatch("cut");
      const download = RESULT_DOWNLOADS[provider];
      harness.emulator.faults.add({
        method: "GET",
        path: download,
        action: { kind: "cut", afterBytes: 4_000 },
        // Twice: the re-download is cut as well, and the third is served whole.
        times: 2,
      });
      const results = await client.retrieveBatchResults("cut");
      expect(idsOf(results)).toEqual(idsOf(requests));
      expect(results.map((result) => result.status)).toEqual(Array(40).fill("succeeded"));
      const downloads = harness.emulator.requestLog.filter(
        (entry) => entry.method === "GET" && download.test(entry.path),
      );
      // A download was cut (no answer finished), and one after it was served whole, in another order.
      const statuses = downloads.map((entry) => entry.status);
      expect(statuses).toContain(0);
      expect(statuses.slice(statuses.indexOf(0))).toContain(200);
    },
  );
});

describe("the workspace keeps every job's files apart", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("a job named like a staging or temporary name is a job like any other", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(3), jobId: "a.staging-1", provider: "openai" });
    await client.submitBatch({ requests: exampleRequests(2), jobId: "a", provider: "openai" });
    await client.submitBatch({ requests: exampleRequests(2), jobId: "a.tmp-1", provider: "openai" });
    await client.submitBatch({
      requests: exampleRequests(2),
      jobId: "a.json.tmp-1-0123abcd",
      provider: "openai",
    });
    expect(await client.listJobs()).toEqual(["a", "a.json.tmp-1-0123abcd", "a.staging-1", "a.tmp-1"]);
    harness.clock.advance(ENOUGH_TIME_MS);
    // Submitting "a" removed nothing of "a.staging-1": its paid results can still be fetched.
    const results = await client.retrieveBatchResults("a.staging-1");
    expect(results.map((result) => result.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    for (const jobId of ["a", "a.tmp-1", "a.json.tmp-1-0123abcd"])
      expect(await client.retrieveBatchResults(jobId)).toHaveLength(2);
  });

  it("a record whose job_id names another job is corrupt, and nothing is written", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(2), jobId: "a", provider: "openai" });
    await client.submitBatch({ requests: exampleRequests(2), jobId: "b", provider: "openai" });
    const aRecord = join(harness.directory, "a.json");
    const before = await readFile(aRecord, "utf8");
    await writeFile(join(harness.directory, "b.json"), before);
    harness.clock.advance(ENOUGH_TIME_MS);
    await expect(client.getJob("b")).rejects.toBeInstanceOf(CorruptWorkspaceError);
    await expect(client.monitorBatch("b")).rejects.toMatchObject({ code: "corrupt_workspace" });
    await expect(client.retrieveBatchResults("b")).rejects.toBeInstanceOf(CorruptWorkspaceError);
    expect(await readFile(aRecord, "utf8")).toBe(before);
    expect(existsSync(join(harness.directory, "a_results.json"))).toBe(false);
  });

  it("creates its directory when constructed, and refuses a path that cannot be one", async () => {
    const deep = join(harness.directory, ...Array.from({ length: 24 }, (_, index) => `level-${index}`));
    const client = new RelayClient({ directory: deep, env: {} });
    // Synchronously: nothing has been awaited since the constructor returned.
    expect(existsSync(join(deep, ".relay"))).toBe(true);
    expect(await client.listJobs()).toEqual([]);

    const blocker = join(harness.directory, "a-file");
    await writeFile(blocker, "not a directory");
    for (const directory of [blocker, join(blocker, "below")]) {
      const unusable = new RelayClient({ directory, env: {} });
      for (const call of [
        () => unusable.listJobs(),
        () => unusable.getJob("x"),
        () => unusable.getResults("x"),
      ]) {
        const error = await call().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(RelayError);
        expect(error).toMatchObject({ code: "workspace_not_writable" });
        expect((error as Error).message).toContain(directory);
      }
    }
  });
});

describe("request IDs must survive UTF-8", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it.each(["openai", "together", "anthropic"] as ProviderName[])(
    "%s: an ID with an unpaired surrogate is refused before anything is stored or sent",
    async (provider) => {
      const client = harness.client();
      const model = providerEntry(provider).demoModel;
      for (const id of ["a\ud800", "\udc00b", "x\ud83d"]) {
        const error = await client
          .submitBatch({ requests: [{ id, model, prompt: "hi" }], jobId: "surrogate", provider })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({ code: "invalid_request_id" });
      }
      expect(await client.listJobs()).toEqual([]);
      expect(harness.emulator.requestLog).toEqual([]);
    },
  );
});

describe("stored results are checked against the job they belong to", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  async function finished(jobId: string, prefix: string, count = 3) {
    const client = harness.client();
    const requests = exampleRequests(count).map((request, index) => ({
      ...request,
      id: `${prefix}-${index + 1}`,
    }));
    await client.submitBatch({ requests, jobId, provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.retrieveBatchResults(jobId);
    return { client, resultsPath: join(harness.directory, `${jobId}_results.json`) };
  }

  /** The results file with its elements changed, still a valid JSON array of one element per line. */
  async function rewrite(path: string, change: (elements: string[]) => string[]) {
    const elements = (await readFile(path, "utf8"))
      .split("\n")
      .slice(1, -2)
      .map((line) => line.replace(/,$/, ""));
    await writeFile(path, `[\n${change(elements).join(",\n")}\n]\n`);
  }

  it("a results file with a result missing, one too many, or two swapped is corrupt; forceRefresh repairs it", async () => {
    const { client, resultsPath } = await finished("job", "q");
    const good = await readFile(resultsPath, "utf8");
    const changes: [string, (elements: string[]) => string[]][] = [
      ["a result missing", (elements) => elements.slice(0, 2)],
      ["one too many", (elements) => [...elements, elements[0] as string]],
      ["two swapped", (elements) => [elements[1] as string, elements[0] as string, elements[2] as string]],
    ];
    for (const [, change] of changes) {
      await rewrite(resultsPath, change);
      await expect(client.getResults("job")).rejects.toBeInstanceOf(CorruptWorkspaceError);
      await expect(client.retrieveBatchResults("job")).rejects.toMatchObject({
        code: "corrupt_workspace",
        message: expect.stringContaining("forceRefresh"),
      });
      const repaired = await client.retrieveBatchResults("job", { forceRefresh: true });
      expect(idsOf(repaired)).toEqual(["q-1", "q-2", "q-3"]);
      expect(await readFile(resultsPath, "utf8")).toBe(good);
    }
  });

  it("another job's results in a job's results file are corrupt", async () => {
    const { client, resultsPath } = await finished("mine", "m");
    const other = await finished("theirs", "t");
    await writeFile(resultsPath, await readFile(other.resultsPath, "utf8"));
    const error = await client.getResults("mine").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptWorkspaceError);
    expect((error as CorruptWorkspaceError).path).toBe(resultsPath);
    expect(idsOf((await client.retrieveBatchResults("mine", { forceRefresh: true })) ?? [])).toEqual([
      "m-1",
      "m-2",
      "m-3",
    ]);
  });

  it("a truncated order file is reported, and no results file is written from it", async () => {
    const { client, resultsPath } = await finished("cut-order", "c", 6);
    const orderPath = join(harness.directory, ".relay", "jobs", "cut-order", "order.txt");
    const order = await readFile(orderPath, "utf8");
    await writeFile(orderPath, order.split("\n").slice(0, 3).join("\n"));
    const results = await readFile(resultsPath, "utf8");
    const error = await client.getResults("cut-order").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptWorkspaceError);
    expect((error as CorruptWorkspaceError).path).toBe(orderPath);
    await expect(client.retrieveBatchResults("cut-order", { forceRefresh: true })).rejects.toMatchObject({
      code: "corrupt_workspace",
      path: orderPath,
    });
    expect(await readFile(resultsPath, "utf8")).toBe(results);
  });
});

describe("a status answer about another batch", () => {
  let harness: Harness;
  let proxy: Server;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await harness.close();
  });

  it("never replaces the stored batch ID", async () => {
    const client = harness.client();
    const a = await client.submitBatch({ requests: exampleRequests(2), jobId: "a", provider: "openai" });
    const b = await client.submitBatch({ requests: exampleRequests(2), jobId: "b", provider: "openai" });
    const [batchA, batchB] = [a.providerBatchIds[0], b.providerBatchIds[0]];
    // A proxy gone wrong: whatever is asked about batch A, the server behind it answers about batch B.
    const target = new URL(harness.emulator.baseURL("openai"));
    proxy = createServer((request, response) => {
      const path = (request.url ?? "/").replace(`/batches/${batchA}`, `/batches/${batchB}`);
      const forwarded = httpRequest(
        `${target.origin}${path}`,
        { method: request.method, headers: { ...request.headers, host: target.host } },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const redirected = harness.client({
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${target.pathname}`,
          maxRetries: 0,
        },
      },
    });
    const before = await readFile(join(harness.directory, "a.json"), "utf8");
    const error = await redirected.monitorBatch("a").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: "unexpected_answer" });
    expect(await readFile(join(harness.directory, "a.json"), "utf8")).toBe(before);
    expect((await client.getJob("a"))?.shards[0]?.provider_batch_id).toBe(batchA);
    await expect(redirected.cancelBatch("a")).rejects.toMatchObject({ code: "unexpected_answer" });
    expect((await client.getJob("a"))?.shards[0]?.provider_batch_id).toBe(batchA);
  });
});
