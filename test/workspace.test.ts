import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CorruptWorkspaceError, RelayClient } from "../src/index.js";
import { writeFileAtomic } from "../src/workspace/atomic.js";
import { FileLock } from "../src/workspace/lock.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

const PYTHON_KEYS = [
  "job_id",
  "provider_job_id",
  "provider",
  "submitted_at",
  "status",
  "n_requests",
  "completed_requests",
  "failed_requests",
  "description",
];

describe("the workspace", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("stores a job record whose first keys are the Python Relay's, in its order, with ISO-8601 UTC times", async () => {
    const client = harness.client();
    await client.submitBatch({
      requests: exampleRequests(2),
      jobId: "rec",
      provider: "openai",
      description: "desc",
    });
    const record = JSON.parse(await readFile(join(harness.directory, "rec.json"), "utf8"));
    expect(Object.keys(record).slice(0, PYTHON_KEYS.length)).toEqual(PYTHON_KEYS);
    expect(record).toMatchObject({
      job_id: "rec",
      provider: "openai",
      n_requests: 2,
      description: "desc",
      relay_format: 1,
    });
    expect(record.provider_job_id).toMatch(/^batch_/);
    expect(record.submitted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(record.shards).toHaveLength(1);
    expect(record.shards[0]).toMatchObject({
      state: "created",
      provider_batch_id: record.provider_job_id,
      n_requests: 2,
    });
  });

  it("reads a workspace written by the Python Relay: its job record and its raw results file", async () => {
    const { emulator } = harness;
    // A batch that exists at the provider, tracked by a record the Python Relay wrote.
    const sdkClient = harness.client();
    await sdkClient.submitBatch({ requests: exampleRequests(2), jobId: "seed-source", provider: "openai" });
    const batchId = [...emulator.providers.openai.batches.keys()][0];
    const python = await mkdtemp(join(tmpdir(), "relay-python-"));
    try {
      await writeFile(
        join(python, "job1.json"),
        JSON.stringify(
          {
            job_id: "job1",
            provider_job_id: batchId,
            provider: "openai",
            submitted_at: "2026-11-23T20:32:36.267468",
            status: "validating",
            n_requests: 2,
            completed_requests: 0,
            failed_requests: 0,
            description: "d",
          },
          null,
          2,
        ),
      );
      const rawResults = [
        {
          id: "batch_req_1",
          custom_id: "req-2",
          response: {
            status_code: 200,
            request_id: "r",
            body: {
              object: "chat.completion",
              choices: [{ index: 0, message: { role: "assistant", content: "four" }, finish_reason: "stop" }],
              usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
            },
          },
          error: null,
        },
        {
          id: "batch_req_2",
          custom_id: "req-1",
          response: null,
          error: { code: "batch_expired", message: "expired" },
        },
      ];
      await writeFile(join(python, "job1_results.json"), JSON.stringify(rawResults, null, 2));
      await writeFile(
        join(python, "job2.json"),
        JSON.stringify({
          job_id: "job2",
          provider_job_id: batchId,
          provider: "openai",
          submitted_at: "2026-11-23T20:32:36",
          status: "in_progress",
          n_requests: 2,
          completed_requests: 0,
          failed_requests: 0,
          description: "",
        }),
      );

      const client = new RelayClient({
        directory: python,
        env: {},
        providers: { openai: { apiKey: "sk-x", baseURL: emulator.baseURL("openai") } },
      });
      expect(await client.listJobs()).toEqual(["job1", "job2"]);
      const job = await client.getJob("job1");
      expect(job).toMatchObject({
        job_id: "job1",
        status: "pending",
        provider_status: "validating",
        submitted_at: "2026-11-23T20:32:36.267Z",
      });
      expect(await client.hasResults("job1")).toBe(true);
      const results = await client.getResults("job1");
      expect(results).toEqual([
        {
          id: "req-2",
          status: "succeeded",
          text: "four",
          finishReason: "stop",
          usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
          raw: rawResults[0],
        },
        {
          id: "req-1",
          status: "expired",
          error: { code: "batch_expired", message: "expired" },
          raw: rawResults[1],
        },
      ]);

      // A Python job without results is monitored and retrieved through the provider.
      harness.clock.advance(ENOUGH_TIME_MS);
      expect((await client.monitorBatch("job2")).status).toBe("completed");
      const fetched = await client.retrieveBatchResults("job2");
      expect(fetched.map((result) => result.id).sort()).toEqual(["req-1", "req-2"]);
      expect(fetched.every((result) => result.status === "succeeded")).toBe(true);
    } finally {
      await rm(python, { recursive: true, force: true });
    }
  });

  it("reports a corrupt or truncated job record as corrupt, never as absent", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(1), jobId: "victim", provider: "openai" });
    const path = join(harness.directory, "victim.json");
    const original = await readFile(path, "utf8");
    await writeFile(path, original.slice(0, original.length / 2));
    await expect(client.getJob("victim")).rejects.toBeInstanceOf(CorruptWorkspaceError);
    await expect(client.monitorBatch("victim")).rejects.toBeInstanceOf(CorruptWorkspaceError);
    const resubmit = client.submitBatch({
      requests: exampleRequests(1),
      jobId: "victim",
      provider: "openai",
      overwrite: true,
    });
    await expect(resubmit).rejects.toBeInstanceOf(CorruptWorkspaceError);
    expect(await readFile(path, "utf8")).toBe(original.slice(0, original.length / 2));
    expect(harness.emulator.batchCount("openai")).toBe(1);
  });

  it("reports a record whose shards are not shard records as corrupt, and never rewrites it", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(1), jobId: "shaped", provider: "openai" });
    const path = join(harness.directory, "shaped.json");
    const record = JSON.parse(await readFile(path, "utf8"));
    for (const shards of [[null], [{}], [{ ...record.shards[0], status: "done" }], ["x"]]) {
      const text = JSON.stringify({ ...record, shards }, null, 2);
      await writeFile(path, text);
      await expect(client.getJob("shaped")).rejects.toMatchObject({ code: "corrupt_workspace" });
      await expect(client.monitorBatch("shaped")).rejects.toMatchObject({ code: "corrupt_workspace" });
      const [listing] = await client.scanJobs();
      expect(listing?.error?.message).toMatch(/shards\[0\]( is not an object|\.\w+ must be)/);
      expect(await readFile(path, "utf8")).toBe(text);
    }
  });

  it("reads back every result status it stores, invalid_output included", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(3), jobId: "statuses", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("statuses");
    const path = join(harness.directory, "statuses_results.json");
    const lines = (await readFile(path, "utf8")).split("\n");
    const second = JSON.parse(lines[2]?.replace(/,$/, "") ?? "");
    const invalid = {
      ...second,
      status: "invalid_output",
      error: { code: "invalid_json", message: "not JSON" },
    };
    lines[2] = `${JSON.stringify(invalid)},`;
    await writeFile(path, lines.join("\n"));
    const read = await client.getResults("statuses");
    expect(read?.map((result) => result.status)).toEqual(["succeeded", "invalid_output", "succeeded"]);
    expect(read?.[1]?.text).toBe(results[1]?.text);
  });

  it("reports a truncated results file as corrupt", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(3), jobId: "cut", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.retrieveBatchResults("cut");
    const path = join(harness.directory, "cut_results.json");
    const text = await readFile(path, "utf8");
    await writeFile(path, text.slice(0, text.lastIndexOf("\n", text.length - 2)));
    await expect(client.getResults("cut")).rejects.toBeInstanceOf(CorruptWorkspaceError);
  });

  it("refuses a workspace that is not writable before anything is sent", async () => {
    if (process.getuid?.() === 0) {
      // root ignores permissions; make the workspace a path under a file instead, which nobody can create.
      const blocker = join(harness.directory, "blocker");
      await writeFile(blocker, "");
      const client = harness.client({ directory: join(blocker, "ws") });
      await expect(
        client.submitBatch({ requests: exampleRequests(1), jobId: "x", provider: "openai" }),
      ).rejects.toMatchObject({
        code: "workspace_not_writable",
      });
    } else {
      const locked = join(harness.directory, "locked");
      await mkdir(locked);
      await chmod(locked, 0o500);
      const client = harness.client({ directory: locked });
      await expect(
        client.submitBatch({ requests: exampleRequests(1), jobId: "x", provider: "openai" }),
      ).rejects.toMatchObject({
        code: "workspace_not_writable",
      });
      await chmod(locked, 0o700);
    }
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it("writes atomically: the old content survives a failed write and no temporary file is left", async () => {
    const path = join(harness.directory, "atomic.json");
    await writeFileAtomic(path, "old");
    await expect(writeFileAtomic(join(path, "not-a-dir", "x.json"), "new")).rejects.toThrow();
    expect(await readFile(path, "utf8")).toBe("old");
    await writeFileAtomic(path, "new");
    expect(await readFile(path, "utf8")).toBe("new");
    expect((await readdir(harness.directory)).filter((name) => name.includes(".tmp-"))).toEqual([]);
  });

  it("keeps API keys out of everything it writes", async () => {
    const client = harness.client();
    await client.submitBatch({ requests: exampleRequests(2), jobId: "secret", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.retrieveBatchResults("secret");
    for (const entry of await readdir(harness.directory, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const content = await readFile(join(entry.parentPath, entry.name), "utf8");
      expect(content).not.toContain("sk-test-openai");
    }
  });
});

describe("the job lock", () => {
  it("lets one holder in at a time and takes over a lock whose process is gone", async () => {
    const directory = await mkdtemp(join(tmpdir(), "relay-lock-"));
    const path = join(directory, "job.lock");
    try {
      const first = await FileLock.acquire(path, "job", { waitMs: 100 });
      await expect(FileLock.acquire(path, "job", { waitMs: 100 })).rejects.toMatchObject({
        code: "job_locked",
      });
      await first.release();
      const second = await FileLock.acquire(path, "job", { waitMs: 100 });
      await second.release();

      // A lock file left by a process that no longer exists.
      await writeFile(
        path,
        JSON.stringify({
          pid: 2 ** 22 + 12345,
          host: (await import("node:os")).hostname(),
          acquired_at: "x",
        }),
      );
      const third = await FileLock.acquire(path, "job", { waitMs: 100 });
      await third.release();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
