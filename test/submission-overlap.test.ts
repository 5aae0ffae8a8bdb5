import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RelayClient } from "../src/index.js";
import type { BatchRequest } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { killHard } from "./support/relay-process.js";

const DIST = join(import.meta.dirname, "..", "dist", "index.js");

/** Waits until `check` holds, looking every few milliseconds (real time: the emulator's clock is manual). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 2_000; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting until ${what}`);
}

describe("a submission uploads its shards while the next ones are written", () => {
  let harness: Harness;
  let client: RelayClient;
  beforeEach(async () => {
    harness = await startHarness();
    client = harness.client({
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: harness.emulator.baseURL("openai"),
          maxRequestsPerBatch: 2,
        },
      },
    });
  });
  afterEach(async () => {
    await harness.close();
  });

  const posts = (path: RegExp) =>
    harness.emulator.requestLog.filter((entry) => entry.method === "POST" && path.test(entry.path));

  /** The requests, the last held back until `before` has happened. */
  async function* heldBack(requests: BatchRequest[], before: () => boolean | Promise<boolean>, what: string) {
    for (const [index, request] of requests.entries()) {
      if (index === requests.length - 1) await until(before, what);
      yield request;
    }
  }

  it("uploads the first shard before the last request is given, and creates no batch until every request is written", async () => {
    const requests = exampleRequests(6);
    let batchesBeforeLast = -1;
    const job = await client.submitBatch({
      requests: heldBack(
        requests,
        () => {
          batchesBeforeLast = posts(/\/batches$/).length;
          return posts(/\/files$/).some((entry) => entry.status === 200);
        },
        "a shard was uploaded",
      ),
      jobId: "overlap",
      provider: "openai",
    });
    expect(batchesBeforeLast).toBe(0);
    expect(job.providerBatchIds).toHaveLength(3);
    expect(posts(/\/files$/)).toHaveLength(3);
    expect(harness.emulator.batchCount("openai")).toBe(3);
    const record = await client.getJob("overlap");
    expect(record?.requests_written).toBe(true);
    expect(record?.n_requests).toBe(6);
    expect(record?.shards.every((shard) => typeof shard.digest === "string")).toBe(true);
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("overlap");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requests.map((request) => [request.id, "succeeded"]),
    );
  });

  it("bad input found after a shard was uploaded leaves nothing: no record, no batch, the upload deleted", async () => {
    const requests = [...exampleRequests(5), { ...exampleRequests(1)[0] } as BatchRequest];
    await expect(
      client.submitBatch({
        requests: heldBack(
          requests,
          () => posts(/\/files$/).some((entry) => entry.status === 200),
          "a shard was uploaded",
        ),
        jobId: "bad-late",
        provider: "openai",
      }),
    ).rejects.toMatchObject({ code: "duplicate_request_id" });
    expect(await client.getJob("bad-late")).toBeNull();
    expect(harness.emulator.batchCount("openai")).toBe(0);
    expect(harness.emulator.providers.openai.files.list().filter((file) => file.purpose === "batch")).toEqual(
      [],
    );
    expect(existsSync(join(harness.directory, ".relay", "jobs", "bad-late"))).toBe(false);
    expect(await readdir(join(harness.directory, ".relay", "staging"))).toEqual([]);
    // The job ID is free: the same ID with good requests is an ordinary submission.
    const job = await client.submitBatch({
      requests: exampleRequests(5),
      jobId: "bad-late",
      provider: "openai",
    });
    expect(job.nRequests).toBe(5);
  });
});

describe("a submission killed while its requests are being written", () => {
  let harness: Harness;
  let client: RelayClient;
  beforeEach(async () => {
    harness = await startHarness();
    client = harness.client({
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: harness.emulator.baseURL("openai"),
          maxRequestsPerBatch: 2,
        },
      },
    });
  });
  afterEach(async () => {
    await harness.close();
  });

  /**
   * Submits the first `given` of `all` in another process, whose request list then never ends (as if it were still
   * being read), and kills it once `ready` holds.
   */
  async function killWhileWriting(
    all: BatchRequest[],
    given: number,
    ready: () => Promise<boolean> | boolean,
  ) {
    const script = `
      const { RelayClient } = await import(process.env.RELAY_DIST);
      const client = new RelayClient({ directory: process.env.RELAY_DIR, env: {}, providers: { openai: {
        apiKey: process.env.RELAY_KEY, baseURL: process.env.RELAY_BASE, maxRequestsPerBatch: 2 } } });
      setInterval(() => {}, 1000);
      async function* requests() {
        yield* JSON.parse(process.env.RELAY_REQUESTS);
        await new Promise(() => {});
      }
      await client.submitBatch({ requests: requests(), jobId: "cut", provider: "openai" });`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        PATH: process.env.PATH ?? "",
        RELAY_DIST: DIST,
        RELAY_DIR: harness.directory,
        RELAY_KEY: TEST_KEYS.openai,
        RELAY_BASE: harness.emulator.baseURL("openai"),
        RELAY_REQUESTS: JSON.stringify(all.slice(0, given)),
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, "exit").then(() => {
      throw new Error(`the submitting process ended by itself: ${stderr}`);
    });
    await Promise.race([until(ready, "the kill point"), exited]);
    await killHard(child);
  }

  const uploads = () =>
    harness.emulator.requestLog.filter((entry) => entry.method === "POST" && /\/files$/.test(entry.path));

  it("with its first shard uploaded: recover and monitor refuse it, the same requests carry it on without uploading it again", async () => {
    const requests = exampleRequests(6);
    await killWhileWriting(
      requests,
      3,
      async () => (await client.getJob("cut"))?.shards[0]?.state === "uploaded",
    );
    const stored = await client.getJob("cut");
    expect(stored?.requests_written).toBe(false);
    expect(stored?.shards).toHaveLength(1);
    expect(harness.emulator.batchCount("openai")).toBe(0);
    await expect(client.recover("cut")).rejects.toMatchObject({ code: "submission_interrupted" });
    await expect(client.monitorBatch("cut")).rejects.toMatchObject({ code: "submission_interrupted" });

    // Other requests under the same ID are refused and change nothing.
    await expect(
      client.submitBatch({ requests: exampleRequests(6, "gpt-4.1-mini"), jobId: "cut", provider: "openai" }),
    ).rejects.toMatchObject({ code: "job_exists" });
    expect(await client.getJob("cut")).toEqual(stored);

    const job = await client.submitBatch({ requests, jobId: "cut", provider: "openai" });
    expect(job.providerBatchIds).toHaveLength(3);
    expect(uploads()).toHaveLength(3);
    const record = await client.getJob("cut");
    expect(record?.shards[0]?.input_file_id).toBe(stored?.shards[0]?.input_file_id);
    expect(record?.requests_written).toBe(true);
    expect(harness.emulator.batchCount("openai")).toBe(3);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch("cut")).status).toBe("completed");
    const results = await client.retrieveBatchResults("cut");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requests.map((request) => [request.id, "succeeded"]),
    );
  });

  it("during its first upload: the same requests upload that shard again and create every batch once", async () => {
    const requests = exampleRequests(6);
    harness.emulator.faults.add({
      method: "POST",
      path: /\/files$/,
      action: { kind: "hold", ms: 60_000, phase: "after" },
    });
    let held = false;
    harness.emulator.events.once("held", () => {
      held = true;
    });
    await killWhileWriting(requests, 3, () => held);
    harness.emulator.faults.clear();
    expect((await client.getJob("cut"))?.shards.map((shard) => shard.state)).toEqual(["planned"]);
    const job = await client.submitBatch({ requests, jobId: "cut", provider: "openai" });
    expect(job.providerBatchIds).toHaveLength(3);
    expect(harness.emulator.batchCount("openai")).toBe(3);
    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.retrieveBatchResults("cut")).map((result) => result.id)).toEqual(
      requests.map((request) => request.id),
    );
  });

  it("can be cancelled: it ends cancelled, with a cancelled result for each request it recorded", async () => {
    const requests = exampleRequests(6);
    await killWhileWriting(requests, 5, async () => (await client.getJob("cut"))?.shards.length === 2);
    expect(await client.cancelBatch("cut")).toBe(true);
    expect((await client.monitorBatch("cut")).status).toBe("cancelled");
    const results = await client.retrieveBatchResults("cut");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requests.slice(0, 4).map((request) => [request.id, "cancelled"]),
    );
    expect(harness.emulator.batchCount("openai")).toBe(0);
  });
});
