import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import type { BatchJob, BatchResult } from "../src/index.js";
import { jsonLines, withHarness, workspaceListing } from "./support/cli.js";
import { ENOUGH_TIME_MS } from "./support/harness.js";
import { relay } from "./support/relay-process.js";

const DAY_MS = 24 * 3_600_000;

describe("relay results and relay retry", () => {
  it.concurrent("prints results in every format: text made safe for a terminal, JSON and CSV exact", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      harness.emulator.setFate("broken", "fail");
      // The emulator's answer repeats the prompt, so these reach the output as model text.
      const hostile =
        "Red \u001b[31mALERT\u001b[0m, title \u001b]0;pwned\u0007, bell \u0007, \u202eevil, and a\r\nnew line";
      await harness.client().submitBatch({
        requests: [
          { id: "plain", model: "gpt-4o-mini", prompt: 'Say "hi", then a comma' },
          { id: "hostile", model: "gpt-4o-mini", prompt: hostile },
          { id: "broken", model: "gpt-4o-mini", prompt: "this one fails" },
        ],
        jobId: "formats",
        provider: "openai",
      });
      const early = await relay(
        ["results", "formats", "--out", join(harness.directory, "early.csv"), "--format", "csv"],
        env,
      );
      expect(early.code).toBe(1);
      expect(early.stderr).toContain("[job_not_finished]");
      await expect(stat(join(harness.directory, "early.csv"))).rejects.toMatchObject({ code: "ENOENT" });
      harness.clock.advance(ENOUGH_TIME_MS);

      const out = join(harness.directory, "exports", "answers.csv");
      const [text, jsonl, json, csv, toFile, failedOnly, alias] = await Promise.all([
        relay(["results", "formats"], env),
        relay(["results", "formats", "--format", "jsonl"], env),
        relay(["results", "formats", "-f", "json"], env),
        relay(["results", "formats", "--format", "csv"], env),
        relay(["results", "formats", "--format", "csv", "--out", out], env),
        relay(["results", "formats", "--status", "failed", "--json"], env),
        relay(["results", "formats", "--json"], env),
      ]);
      for (const run of [text, jsonl, json, csv, toFile, failedOnly, alias])
        expect(run.code, run.stderr).toBe(0);

      const results = jsonLines<BatchResult>(jsonl.stdout);
      expect(results.map((result) => [result.id, result.status])).toEqual([
        ["plain", "succeeded"],
        ["hostile", "succeeded"],
        ["broken", "failed"],
      ]);
      expect(results[1]?.text).toContain(hostile);
      expect(alias.stdout).toBe(jsonl.stdout);
      expect(JSON.parse(json.stdout)).toEqual(results);
      expect(await harness.client().getResults("formats")).toEqual(results);
      expect(jsonLines<BatchResult>(failedOnly.stdout).map((result) => result.id)).toEqual(["broken"]);

      // Text: no control character reaches the terminal; each is shown as an escape.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none is printed.
      expect(text.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
      expect(text.stdout).toContain(
        "Red \\x1b[31mALERT\\x1b[0m, title \\x1b]0;pwned\\x07, bell \\x07, \\u202eevil, and a\\r",
      );
      expect(text.stdout).toMatch(
        /^plain: \[gpt-4o-mini emulated #\w+\] You said: Say "hi", then a comma \[\d+ in \/ \d+ out tokens\]$/m,
      );
      expect(text.stdout).toMatch(/^broken: FAILED emulated_failure: /m);

      const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
      expect(rows.map((row) => [row.id, row.status, row.text])).toEqual(
        results.map((result) => [result.id, result.status, result.text ?? ""]),
      );
      expect(rows[0]).toMatchObject({
        finish_reason: "stop",
        input_tokens: String(results[0]?.usage?.inputTokens),
        output_tokens: String(results[0]?.usage?.outputTokens),
        model: "gpt-4o-mini",
      });
      expect(rows[2]).toMatchObject({ error_code: "emulated_failure", input_tokens: "" });
      expect(await readFile(out, "utf8")).toBe(csv.stdout);
      expect(toFile.stdout).toBe("");
      expect(toFile.stderr).toContain(`Wrote 3 results to ${out}`);

      const listing = await workspaceListing(harness.directory);
      await mkdir(join(harness.directory, "a-directory"));
      const [intoDirectory, badFormat, clash, badStatus, unknown, badJob] = await Promise.all([
        relay(["results", "formats", "--out", join(harness.directory, "a-directory")], env),
        relay(["results", "formats", "--format", "xml"], env),
        relay(["results", "formats", "--json", "--format", "csv"], env),
        relay(["results", "formats", "--status", "done"], env),
        relay(["results", "nope"], env),
        relay(["results", "a/b"], env),
      ]);
      expect([
        intoDirectory.code,
        badFormat.code,
        clash.code,
        badStatus.code,
        unknown.code,
        badJob.code,
      ]).toEqual([1, 64, 64, 64, 1, 64]);
      expect(intoDirectory.stderr).toMatch(
        /is a directory; give --out a file name\. \[output_not_writable\]/,
      );
      expect(badFormat.stderr).toMatch(/Allowed choices are text, jsonl, json, csv/);
      expect(clash.stderr).toMatch(/--json means --format jsonl/);
      expect(badStatus.stderr).toMatch(/succeeded, failed, expired, cancelled/);
      expect(unknown.stderr).toMatch(/No job "nope".*\[job_not_found\]/);
      expect(badJob.stderr).toMatch(/job ID "a\/b" is not allowed/);
      expect(await workspaceListing(harness.directory)).toEqual([...listing, "a-directory"].sort());
    }));

  it.concurrent("retries a job's failed and expired requests to completion; merged results take the latest attempt", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      const requests = ["ok-1", "fails", "ok-2", "expires", "ok-3"].map((id) => ({
        id,
        model: "gpt-4o-mini",
        prompt: `prompt ${id}`,
      }));
      harness.emulator.setFate("fails", "fail");
      harness.emulator.setFate("expires", "expire");
      await harness.client().submitBatch({ requests, jobId: "first", provider: "openai" });
      harness.clock.advance(DAY_MS + ENOUGH_TIME_MS);

      const status = await relay(["status", "first", "--json"], env);
      expect(JSON.parse(status.stdout) as BatchJob).toMatchObject({ status: "expired" });
      const early = await relay(["retry", "first", "--statuses", "succeeded"], env);
      expect(early.code).toBe(64);
      expect(early.stderr).toMatch(/--statuses.*failed, expired, cancelled/);

      const firstResults = jsonLines<BatchResult>((await relay(["results", "first", "--json"], env)).stdout);
      expect(firstResults.map((result) => result.status)).toEqual([
        "succeeded",
        "failed",
        "succeeded",
        "expired",
        "succeeded",
      ]);

      harness.emulator.setFate("fails", "succeed");
      harness.emulator.setFate("expires", "succeed");
      const retry = await relay(["retry", "first", "--json"], env);
      expect(retry.code, retry.stderr).toBe(0);
      const [child] = jsonLines<BatchJob>(retry.stdout);
      expect(child).toMatchObject({ jobId: "first-retry-1", nRequests: 2, status: "pending" });
      const running = await relay(["retry", "first-retry-1"], env);
      expect(running.code).toBe(1);
      expect(running.stderr).toContain("[job_not_finished]");

      harness.clock.advance(ENOUGH_TIME_MS);
      const watched = await relay(["watch", "first-retry-1", "--interval", "1"], env);
      expect(watched.code, watched.stderr).toBe(0);

      const merged = jsonLines<BatchResult>(
        (await relay(["results", "first", "--merged", "--json"], env)).stdout,
      );
      expect(merged.map((result) => [result.id, result.status, result.attempt?.jobId])).toEqual([
        ["ok-1", "succeeded", "first"],
        ["fails", "succeeded", "first-retry-1"],
        ["ok-2", "succeeded", "first"],
        ["expires", "succeeded", "first-retry-1"],
        ["ok-3", "succeeded", "first"],
      ]);
      const csv = parse((await relay(["results", "first", "--merged", "-f", "csv"], env)).stdout, {
        columns: true,
      }) as Record<string, string>[];
      expect(csv.map((row) => row.attempt_job_id)).toEqual([
        "first",
        "first-retry-1",
        "first",
        "first-retry-1",
        "first",
      ]);
      const text = (await relay(["results", "first", "--merged"], env)).stdout;
      expect(text).toMatch(/^fails: .* \(from first-retry-1\)$/m);

      // The records link both ways, and show says so.
      const shown = await relay(["show", "first"], env);
      expect(shown.stdout).toMatch(/retried as\s+first-retry-1/);
      expect(JSON.parse((await relay(["show", "first-retry-1", "--json"], env)).stdout).parent_job_id).toBe(
        "first",
      );

      const again = await relay(["retry", "first-retry-1"], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/nothing to retry.*\[nothing_to_retry\]/);
      expect((await harness.client().listJobs()).sort()).toEqual(["first", "first-retry-1"]);
    }));
});
