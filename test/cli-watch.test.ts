import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JobProgress } from "../src/index.js";
import { jsonLines } from "./support/cli.js";
import { exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { relay, relayOnTerminal, startRelay } from "./support/relay-process.js";

/** Batches that validate for 500 ms, run 1 s and finalize 500 ms: checks 500 ms apart see every phase. */
const TIMING = { validatingMs: 500, inProgressMs: 1_000, finalizingMs: 500 };
const STEP_MS = 500;
const ESC = "\u001b";

async function withHarness(test: (harness: Harness) => Promise<void>): Promise<void> {
  const harness = await startHarness({ timing: TIMING });
  try {
    await test(harness);
  } finally {
    await harness.close();
  }
}

/** A job of 4 requests in 2 batches, submitted through the library. */
async function submitTwoBatches(harness: Harness, jobId: string): Promise<void> {
  const client = harness.client({
    providers: {
      openai: {
        apiKey: TEST_KEYS.openai,
        baseURL: harness.emulator.baseURL("openai"),
        maxRequestsPerBatch: 2,
      },
    },
  });
  await client.submitBatch({ requests: exampleRequests(4), jobId, provider: "openai" });
}

describe("relay watch", () => {
  it.concurrent("without a terminal: one plain line per check, finalizing shown as such, exit 0 once completed", async () => {
    await withHarness(async (harness) => {
      await submitTwoBatches(harness, "plain");
      const run = await relay(["watch", "plain", "--interval", "1"], harness.env("openai"), {
        onLine: () => harness.clock.advance(STEP_MS),
      });
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split("\n");
      expect(lines.every((line) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ plain: /.test(line))).toBe(true);
      // No escape sequences when stdout is not a terminal.
      expect(run.stdout).not.toContain("\u001b");
      const finalizing = lines.findIndex((line) =>
        / finalizing .* 4\/4 done.*batches: 2 finalizing, results being written/.test(line),
      );
      const completed = lines.findIndex((line) =>
        /plain: completed \(provider: completed\) 4\/4 done, 0 failed/.test(line),
      );
      expect(finalizing).toBeGreaterThan(-1);
      expect(completed).toBe(lines.length - 1);
      expect(finalizing).toBeLessThan(completed);
      expect(lines.some((line) => /in_progress .* 2\/4 done.*ETA \d+s/.test(line))).toBe(true);
      expect(run.stderr).toContain("Job plain completed");
    });
  });

  it.concurrent("--json: one JobProgress object per check, with each batch", async () => {
    await withHarness(async (harness) => {
      await submitTwoBatches(harness, "as-json");
      const run = await relay(["wait", "as-json", "--interval", "1", "--json"], harness.env("openai"), {
        onLine: () => harness.clock.advance(STEP_MS),
      });
      expect(run.code, run.stderr).toBe(0);
      const reports = jsonLines<JobProgress>(run.stdout);
      expect(reports.length).toBeGreaterThanOrEqual(4);
      expect(reports.every((report) => report.jobId === "as-json" && report.shards.length === 2)).toBe(true);
      const finalizing = reports.find((report) => report.finalizing);
      expect(finalizing?.status).toBe("in_progress");
      expect(finalizing?.shards.every((shard) => shard.finalizing && shard.remaining === 0)).toBe(true);
      expect(reports.at(-1)).toMatchObject({
        status: "completed",
        completed: 4,
        failed: 0,
        remaining: 0,
        finalizing: false,
      });
      // Counts never go back.
      const done = reports.map((report) => report.completed + report.failed);
      expect(done).toEqual([...done].sort((a, b) => a - b));
    });
  });

  it.concurrent("on a terminal: a live bar per batch and overall, redrawn in place, in colour unless NO_COLOR", async () => {
    await withHarness(async (harness) => {
      await submitTwoBatches(harness, "live");
      await submitTwoBatches(harness, "plain-colour");
      // Each status check moves the clock on (one list call covers both batches).
      const onRequest = (event: { method: string; path: string }) => {
        if (event.method === "GET" && event.path.endsWith("/batches")) harness.clock.advance(STEP_MS);
      };
      harness.emulator.events.on("request", onRequest);
      const run = await relayOnTerminal(["watch", "live", "--interval", "1"], harness.env("openai"));
      const noColour = await relayOnTerminal(["watch", "plain-colour", "--interval", "1"], {
        ...harness.env("openai"),
        NO_COLOR: "1",
      });
      harness.emulator.events.off("request", onRequest);
      expect(run.code, run.stdout).toBe(0);
      const screen = run.stdout;
      // Redrawn in place: cursor up over the previous frame, each line cleared.
      expect(screen).toMatch(new RegExp(`${ESC}\\[\\d+A\\r${ESC}\\[2K`));
      expect(screen).toMatch(/overall\S*\s+█+░*\s+\d\/4/);
      expect(screen).toMatch(/batch 1\s+[█░]+\s+\d\/2/);
      expect(screen).toMatch(/batch 2\s+[█░]+\s+\d\/2/);
      expect(screen).toMatch(/finalizing[\s\S]*4\/4\s+results being written/);
      expect(screen).toMatch(/ETA \d+s/);
      expect(screen).toMatch(/█{10,}\s+4\/4\s+done/);
      expect(screen).toContain("\u001b[32mcompleted\u001b[39m");
      expect(screen).toContain("Job live completed");

      expect(noColour.code).toBe(0);
      expect(noColour.stdout).toContain(`${ESC}[2K`);
      expect(noColour.stdout).not.toMatch(new RegExp(`${ESC}\\[\\d+m`));
      expect(noColour.stdout).toMatch(/completed \(provider: completed\)/);
    });
  });

  it.concurrent("submit --wait and retry --wait watch the job they made", async () => {
    await withHarness(async (harness) => {
      const file = join(harness.directory, "wait.jsonl");
      await writeFile(
        file,
        exampleRequests(3)
          .map((request) => JSON.stringify(request))
          .join("\n"),
      );
      harness.emulator.setFate("req-2", "fail");
      const submitted = await relay(
        ["submit", file, "--job", "waited", "-p", "openai", "--wait", "--interval", "1"],
        harness.env("openai"),
        {
          onLine: () => harness.clock.advance(STEP_MS),
        },
      );
      expect(submitted.code, submitted.stderr).toBe(0);
      const lines = submitted.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^waited: pending/);
      expect(lines.at(-1)).toMatch(/waited: completed .* 3\/3 done, 1 failed/);

      harness.emulator.setFate("req-2", "succeed");
      const retried = await relay(
        ["retry", "waited", "--wait", "--interval", "1", "--json"],
        harness.env("openai"),
        {
          onLine: () => harness.clock.advance(STEP_MS),
        },
      );
      expect(retried.code, retried.stderr).toBe(0);
      const [job, ...reports] = jsonLines<Record<string, unknown>>(retried.stdout);
      expect(job).toMatchObject({ jobId: "waited-retry-1", nRequests: 1 });
      expect(reports.at(-1)).toMatchObject({ jobId: "waited-retry-1", status: "completed", completed: 1 });
    });
  });

  it.concurrent("exits 2 for a job that ended otherwise, 3 when --timeout runs out, 130 on Ctrl-C, 64 for bad numbers", async () => {
    await withHarness(async (harness) => {
      const client = harness.client();
      const env = harness.env("openai");
      harness.emulator.setFate("exp-1", "expire");
      await client.submitBatch({
        requests: [{ id: "exp-1", model: "gpt-4o-mini", prompt: "x" }],
        jobId: "expires",
        provider: "openai",
      });
      await client.submitBatch({ requests: exampleRequests(2), jobId: "cancelled", provider: "openai" });
      await client.cancelBatch("cancelled");
      await client.submitBatch({
        requests: [{ id: "bad", model: "gpt-4o-mini", prompt: "[emulator:invalid]" }],
        jobId: "invalid",
        provider: "openai",
      });
      // "expires" runs for the emulator's 24 hours; the jobs submitted after the clock moved are still running.
      harness.clock.advance(25 * 3_600_000);
      await client.submitBatch({ requests: exampleRequests(1), jobId: "still-running", provider: "openai" });
      await client.submitBatch({ requests: exampleRequests(1), jobId: "interrupted", provider: "openai" });

      const requestsBefore = harness.emulator.requestLog.length;
      const bad = await Promise.all(
        [
          ["--interval", "0"],
          ["--interval", "abc"],
          ["--interval", "-5"],
          ["--interval", "1e300"],
          ["--timeout", "0"],
          ["--timeout", "-1"],
        ].map((options) => relay(["watch", "still-running", ...options], env)),
      );
      expect(bad.map((run) => run.code)).toEqual(Array(6).fill(64));
      for (const run of bad)
        expect(run.stderr).toMatch(
          /relay: option '--(interval|timeout) <seconds>' argument .* is invalid\. It must be a number of seconds from 1 to/,
        );
      expect(harness.emulator.requestLog.length).toBe(requestsBefore);

      const child = startRelay(["watch", "interrupted", "--interval", "1"], env);
      child.stdout?.once("data", () => child.kill("SIGINT"));
      const [ended, expired, invalid, timedOut, [interruptedCode]] = await Promise.all([
        relay(["watch", "cancelled", "--interval", "1"], env),
        relay(["watch", "expires", "--interval", "1"], env),
        relay(["watch", "invalid", "--interval", "1", "--json"], env),
        relay(["watch", "still-running", "--interval", "1", "--timeout", "1"], env),
        once(child, "exit") as Promise<[number | null]>,
      ]);
      expect([ended.code, expired.code, invalid.code]).toEqual([2, 2, 2]);
      expect(ended.stdout).toMatch(/cancelled: cancelled/);
      expect(ended.stderr).toMatch(/ended cancelled \(exit 2\).*relay retry cancelled/);
      expect(expired.stdout).toMatch(/expires: expired/);
      expect(jsonLines<JobProgress>(invalid.stdout).at(-1)?.status).toBe("failed");
      expect(timedOut.code).toBe(3);
      expect(timedOut.stderr).toMatch(/has not finished after 1 s.*\[wait_timeout\]/);
      expect(interruptedCode).toBe(130);
      expect((await client.getJob("interrupted"))?.status).toBe("pending");
      // The job goes on: nothing was cancelled.
      expect((await client.getJob("still-running"))?.status).not.toBe("cancelled");
    });
  });
});
