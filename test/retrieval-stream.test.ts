import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RelayClient } from "../src/index.js";
import type { BatchResult } from "../src/types.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

describe("results fetched, stored and handed out in one pass", () => {
  let harness: Harness;
  let client: RelayClient;
  const requests = exampleRequests(7);
  beforeEach(async () => {
    harness = await startHarness();
    client = harness.client({
      providers: {
        openai: {
          apiKey: TEST_KEYS.openai,
          baseURL: harness.emulator.baseURL("openai"),
          maxRequestsPerBatch: 3,
        },
      },
    });
    harness.emulator.setFate("req-4", "fail");
    await client.submitBatch({ requests, jobId: "one-pass", provider: "openai" });
    harness.clock.advance(ENOUGH_TIME_MS);
  });
  afterEach(async () => {
    await harness.close();
  });

  const jobDir = () => join(harness.directory, ".relay", "jobs", "one-pass");
  const resultsPath = () => join(harness.directory, "one-pass_results.json");

  it("hands out on the first fetch exactly what the stored file holds, in request order, one element per line", async () => {
    const first: BatchResult[] = [];
    for await (const result of client.streamResults("one-pass")) first.push(result);
    expect(first.map((result) => [result.id, result.status])).toEqual(
      requests.map((request) => [request.id, request.id === "req-4" ? "failed" : "succeeded"]),
    );
    expect(first[0]?.raw).toMatchObject({ custom_id: "req-1", response: { status_code: 200 } });
    const text = await readFile(resultsPath(), "utf8");
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("[");
    expect(lines.at(-1)).toBe("]");
    expect(lines).toHaveLength(requests.length + 2);
    expect(JSON.parse(text)).toEqual(first);
    expect(await client.getResults("one-pass")).toEqual(first);
    // No spill is left behind, and the record has the counts.
    expect((await readdir(jobDir())).filter((name) => name.includes("arrived"))).toEqual([]);
    const record = await client.getJob("one-pass");
    expect([record?.completed_requests, record?.failed_requests]).toEqual([6, 1]);
  });

  it("stores nothing when the reader stops early, frees the job, and fetches it whole next time", async () => {
    for await (const result of client.streamResults("one-pass")) {
      expect(result.id).toBe("req-1");
      break;
    }
    expect(await client.hasResults("one-pass")).toBe(false);
    expect(existsSync(resultsPath())).toBe(false);
    const leftovers = (await readdir(harness.directory)).filter((name) => name.startsWith("."));
    expect(leftovers).toEqual([".relay"]);
    expect((await readdir(jobDir())).filter((name) => name.includes("arrived"))).toEqual([]);
    // The lock was released: another call goes through at once.
    expect((await client.monitorBatch("one-pass")).status).toBe("completed");
    const all = await client.retrieveBatchResults("one-pass");
    expect(all.map((result) => result.id)).toEqual(requests.map((request) => request.id));
  });

  it("a download that fails midway stores nothing and reports the failure", async () => {
    harness.emulator.faults.add({
      method: "GET",
      path: /\/content$/,
      action: { kind: "status", status: 500 },
      times: 20,
    });
    await expect(client.retrieveBatchResults("one-pass")).rejects.toMatchObject({ code: "provider_error" });
    expect(await client.hasResults("one-pass")).toBe(false);
    harness.emulator.faults.clear();
    expect(await client.retrieveBatchResults("one-pass")).toHaveLength(requests.length);
  });
});
