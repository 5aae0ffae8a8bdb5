import { once } from "node:events";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FaultAction } from "../src/emulator/index.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { killHard, relay, startRelay } from "./support/relay-process.js";

interface HeldEvent {
  method: string;
  path: string;
  phase: "before" | "after";
}

/**
 * Kill points of a submission, each made exact by holding one provider call in the emulator: "before" the call
 * took effect (the caller dies with its request in flight) or "after" it took effect and before its answer arrived.
 */
const KILL_POINTS: { name: string; method: string; path: RegExp; phase: "before" | "after"; nth?: number }[] =
  [
    {
      name: "during the upload, before the provider stored the file",
      method: "POST",
      path: /\/files$/,
      phase: "before",
    },
    {
      name: "after the upload was stored, before its answer was recorded",
      method: "POST",
      path: /\/files$/,
      phase: "after",
    },
    {
      name: "after the upload, with the create call in flight",
      method: "POST",
      path: /\/batches$/,
      phase: "before",
    },
    {
      name: "after the batch was created, before the record knew it",
      method: "POST",
      path: /\/batches$/,
      phase: "after",
    },
  ];

const RECOVERY_ROUTES = ["recover", "monitorBatch", "submit again"] as const;

describe("a submission killed at any step is recovered with no lost and no duplicate batch", () => {
  let harness: Harness;
  let requestsFile: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    harness = await startHarness();
    requestsFile = join(harness.directory, "..", `requests-${Date.now()}-${Math.random()}.jsonl`);
    env = {
      OPENAI_API_KEY: TEST_KEYS.openai,
      OPENAI_BASE_URL: harness.emulator.baseURL("openai"),
      RELAY_DIRECTORY: harness.directory,
    };
  });
  afterEach(async () => {
    await harness.close();
  });

  async function killAt(point: (typeof KILL_POINTS)[number], args: string[], occurrence = 1) {
    const action: FaultAction = { kind: "hold", ms: 60_000, phase: point.phase };
    // Let the first (occurrence - 1) matching calls through, hold the next one.
    for (let index = 1; index < occurrence; index += 1) {
      harness.emulator.faults.add({
        method: point.method,
        path: point.path,
        action: { kind: "delay", ms: 0 },
      });
    }
    harness.emulator.faults.add({ method: point.method, path: point.path, action });
    const child = startRelay(args, env);
    const held = (async () => {
      for (;;) {
        const [event] = (await once(harness.emulator.events, "held")) as [HeldEvent];
        if (event.method === point.method && point.path.test(event.path)) return event;
      }
    })();
    const exited = once(child, "exit").then(() => {
      throw new Error("relay exited before reaching the kill point");
    });
    await Promise.race([held, exited]);
    await killHard(child);
    harness.emulator.faults.clear();
  }

  async function recoverAndFinish(
    jobId: string,
    route: (typeof RECOVERY_ROUTES)[number],
    count: number,
    shards: number,
  ) {
    const client = harness.client({
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: harness.emulator.baseURL("openai"),
          maxRequestsPerBatch: 2,
        },
      },
    });
    if (route === "recover") await client.recover(jobId);
    else if (route === "monitorBatch") await client.monitorBatch(jobId);
    else {
      const again = await relay(
        ["submit", requestsFile, "--job", jobId, "--provider", "openai", "--max-batch-requests", "2"],
        env,
      );
      expect(again.stderr).toBe("");
    }
    const record = await client.getJob(jobId);
    expect(record?.shards.map((shard) => shard.state)).toEqual(Array(shards).fill("created"));
    expect(harness.emulator.batchCount("openai")).toBe(shards);
    expect(new Set(record?.shards.map((shard) => shard.provider_batch_id)).size).toBe(shards);

    harness.clock.advance(ENOUGH_TIME_MS);
    expect((await client.monitorBatch(jobId)).status).toBe("completed");
    const results = await client.retrieveBatchResults(jobId);
    expect(results.map((result) => [result.id, result.status])).toEqual(
      exampleRequests(count).map((request) => [request.id, "succeeded"]),
    );
    expect(harness.emulator.batchCount("openai")).toBe(shards);
  }

  for (const [index, point] of KILL_POINTS.entries()) {
    const route = RECOVERY_ROUTES[index % RECOVERY_ROUTES.length] as (typeof RECOVERY_ROUTES)[number];
    it(`killed ${point.name}; recovered by ${route}`, async () => {
      await writeFile(
        requestsFile,
        exampleRequests(2)
          .map((request) => JSON.stringify(request))
          .join("\n"),
      );
      await killAt(point, [
        "submit",
        requestsFile,
        "--job",
        "crash",
        "--provider",
        "openai",
        "--max-batch-requests",
        "2",
      ]);
      expect(harness.emulator.batchCount("openai")).toBe(
        point.path.test("/batches") && point.phase === "after" ? 1 : 0,
      );
      await recoverAndFinish("crash", route, 2, 1);
    });
  }

  for (const route of RECOVERY_ROUTES) {
    it(`killed while creating the second of three batches; recovered by ${route}`, async () => {
      await writeFile(
        requestsFile,
        exampleRequests(6)
          .map((request) => JSON.stringify(request))
          .join("\n"),
      );
      const point = KILL_POINTS[3] as (typeof KILL_POINTS)[number];
      await killAt(
        point,
        ["submit", requestsFile, "--job", "multi", "--provider", "openai", "--max-batch-requests", "2"],
        2,
      );
      await recoverAndFinish("multi", route, 6, 3);
    });
  }

  it("killed while writing the requests, before anything was stored or sent; submitting again starts clean", async () => {
    const count = 60_000;
    await writeFile(
      requestsFile,
      exampleRequests(count)
        .map((request) => JSON.stringify(request))
        .join("\n"),
    );
    const child = startRelay(["submit", requestsFile, "--job", "early", "--provider", "openai"], env);
    // Kill as soon as the requests are being written (a staging directory appears), well before any upload.
    const staging = join(harness.directory, ".relay", "staging", "early");
    for (let attempt = 0; attempt < 400; attempt += 1) {
      const started = await readdir(staging).catch(() => [] as string[]);
      if (started.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await killHard(child);
    expect(harness.emulator.requestLog.filter((entry) => entry.method === "POST")).toEqual([]);
    const client = harness.client();
    expect(await client.getJob("early")).toBeNull();
    const again = await relay(["submit", requestsFile, "--job", "early", "--provider", "openai"], env);
    expect(again.stdout).toContain("early: pending");
    expect(harness.emulator.batchCount("openai")).toBe(2);
    const leftovers = await readdir(join(harness.directory, ".relay", "jobs"));
    expect(leftovers).toEqual(["early"]);
    expect(await readdir(join(harness.directory, ".relay", "staging"))).toEqual([]);
  });
});

describe("two processes on the same job", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("submitting the same job ID at once creates one job and one batch", async () => {
    const env = {
      OPENAI_API_KEY: TEST_KEYS.openai,
      OPENAI_BASE_URL: harness.emulator.baseURL("openai"),
      RELAY_DIRECTORY: harness.directory,
    };
    const file = join(harness.directory, "..", `same-${Date.now()}.jsonl`);
    await writeFile(
      file,
      exampleRequests(3)
        .map((request) => JSON.stringify(request))
        .join("\n"),
    );
    const runs = await Promise.all(
      [1, 2, 3].map(() => relay(["submit", file, "--job", "same", "--provider", "openai"], env)),
    );
    expect(runs.map((run) => run.code).sort()).toEqual([0, 1, 1]);
    for (const run of runs.filter((run) => run.code === 1)) expect(run.stderr).toContain("[job_exists]");
    expect(harness.emulator.batchCount("openai")).toBe(1);
  });

  it("monitoring and retrieving at once from several processes never corrupts the workspace", async () => {
    const env = {
      OPENAI_API_KEY: TEST_KEYS.openai,
      OPENAI_BASE_URL: harness.emulator.baseURL("openai"),
      RELAY_DIRECTORY: harness.directory,
    };
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(20), jobId: "busy", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const runs = await Promise.all([
      relay(["status", "busy"], env),
      relay(["results", "busy", "--json"], env),
      relay(["results", "busy", "--json", "--refresh"], env),
      relay(["status", "busy"], env),
      relay(["results", "busy", "--json"], env),
    ]);
    expect(runs.map((run) => [run.code, run.stderr])).toEqual(Array(5).fill([0, ""]));
    for (const run of runs.filter((_, index) => index % 3 !== 0)) {
      const ids = run.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).id);
      expect(ids).toEqual(exampleRequests(20).map((request) => request.id));
    }
    expect((await client.getResults("busy"))?.length).toBe(20);
    expect((await client.getJob("busy"))?.status).toBe("completed");
    const stray = (await readdir(harness.directory, { recursive: true })).filter(
      (name) => name.includes(".tmp-") || name.endsWith(".lock"),
    );
    expect(stray).toEqual([]);
  });
});
