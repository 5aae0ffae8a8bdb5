import { once } from "node:events";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands/index.js";
import type { BatchJob } from "../src/index.js";
import { providerEntries } from "../src/providers/registry.js";
import { withHarness, workspaceListing } from "./support/cli.js";
import { ENOUGH_TIME_MS, exampleRequests } from "./support/harness.js";
import { CLI, relay } from "./support/relay-process.js";

const noStackTrace = (text: string) => !/\n\s+at /.test(text);

describe("relay list, status, show, cancel, recover, clean", () => {
  it.concurrent("list: a table newest first, filters, JSON; a corrupt record is listed as corrupt and breaks nothing", async () =>
    withHarness(async (harness) => {
      const env = { ...harness.env("openai"), ...harness.env("anthropic") };
      const client = harness.client();
      harness.emulator.setFate("req-2", "fail");
      await client.submitBatch({
        requests: exampleRequests(2),
        jobId: "alpha",
        provider: "openai",
        description: "Sentiment run",
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await client.submitBatch({
        requests: exampleRequests(3, "claude-sonnet-4-5"),
        jobId: "beta",
        provider: "anthropic",
        description: "Labels",
      });
      harness.clock.advance(ENOUGH_TIME_MS);
      await client.retrieveBatchResults("alpha");
      const alpha = await readFile(join(harness.directory, "alpha.json"), "utf8");
      await writeFile(join(harness.directory, "broken.json"), "{not json");
      const nulls = JSON.stringify({ ...JSON.parse(alpha), job_id: "nulls", shards: [null] }, null, 2);
      await writeFile(join(harness.directory, "nulls.json"), nulls);

      const today = new Date().toISOString().slice(0, 10);
      const [table, json, byProvider, byStatus, bySearch, byDate, none, badDate, badStatus, badProvider] =
        await Promise.all([
          relay(["list"], env),
          relay(["list", "--json"], env),
          relay(["list", "--provider", "anthropic", "--json"], env),
          relay(["list", "--status", "completed", "--json"], env),
          relay(["ls", "--search", "SENTIMENT", "--json"], env),
          relay(["list", "--since", today, "--until", today, "--json"], env),
          relay(["list", "--until", "2020-01-01", "--json"], env),
          relay(["list", "--since", "last tuesday"], env),
          relay(["list", "--status", "done"], env),
          relay(["list", "--provider", "nope"], env),
        ]);
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.trim().split("\n");
      expect(lines[0]).toMatch(
        /^ID\s+PROVIDER\s+STATUS\s+DONE\/FAILED\/TOTAL\s+COST\s+SUBMITTED\s+RESULTS UNTIL$/,
      );
      // Newest first; done/failed/total; cost counted from the results, or the estimate (~) until then.
      // Anthropic says when a batch's results expire (29 days) as soon as it exists.
      expect(lines[1]).toMatch(
        /^beta\s+anthropic\s+in_progress\s+0\/0\/3\s+~\$0\.\d+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\d{4}-\d\d-\d\d$/,
      );
      expect(lines[2]).toMatch(/^alpha\s+openai\s+completed\s+2\/1\/2\s+\$0\.\d+\s+\S+Z\s+stored$/);
      expect(lines.slice(3).map((line) => line.split(/\s+/).slice(0, 3))).toEqual([
        ["broken", "-", "corrupt"],
        ["nulls", "-", "corrupt"],
      ]);
      expect(table.stderr).toMatch(/warning: broken: .*not valid JSON.*\[corrupt_workspace\]/);
      expect(table.stderr).toMatch(/warning: nulls: .*shards\[0\] is not an object.*\[corrupt_workspace\]/);

      const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(rows.map((row) => [row.jobId, row.status, row.costKind])).toEqual([
        ["beta", "in_progress", "estimate"],
        ["alpha", "completed", "actual"],
        ["broken", "corrupt", null],
        ["nulls", "corrupt", null],
      ]);
      expect(rows[1]).toMatchObject({
        provider: "openai",
        nRequests: 2,
        completedRequests: 1,
        failedRequests: 1,
        resultsStored: true,
      });
      expect((rows[1]?.resultsExpireAt as string) > new Date().toISOString()).toBe(true);
      expect(rows[2]?.error).toMatchObject({ code: "corrupt_workspace" });
      const ids = (run: { stdout: string }) =>
        (JSON.parse(run.stdout) as { jobId: string; status: string }[])
          .filter((row) => row.status !== "corrupt")
          .map((row) => row.jobId);
      expect(ids(byProvider)).toEqual(["beta"]);
      expect(ids(byStatus)).toEqual(["alpha"]);
      expect(ids(bySearch)).toEqual(["alpha"]);
      expect(ids(byDate)).toEqual(["beta", "alpha"]);
      expect(ids(none)).toEqual([]);
      expect([badDate.code, badStatus.code, badProvider.code]).toEqual([64, 64, 64]);
      expect(badDate.stderr).toMatch(/--since <date>.*must be a date such as 2026-12-01/);
      expect(badStatus.stderr).toMatch(
        /pending, in_progress, cancelling, completed, failed, expired, cancelled/,
      );

      // The corrupt records are reported by what reads them, and never rewritten.
      const [showBroken, statusNulls, resultsNulls] = await Promise.all([
        relay(["show", "broken"], env),
        relay(["status", "nulls"], env),
        relay(["results", "nulls"], env),
      ]);
      for (const run of [showBroken, statusNulls, resultsNulls]) {
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("[corrupt_workspace]");
        expect(run.stderr.trim().split("\n")).toHaveLength(1);
      }
      expect(await readFile(join(harness.directory, "nulls.json"), "utf8")).toBe(nulls);
      expect(await readFile(join(harness.directory, "broken.json"), "utf8")).toBe("{not json");
    }));

  it.concurrent("status, show, cancel, recover and clean, in text and JSON; an unknown job or a missing one is refused", async () =>
    withHarness(async (harness) => {
      const env = { ...harness.env("openai"), ...harness.env("anthropic") };
      const client = harness.client();
      await client.submitBatch({
        requests: exampleRequests(3),
        jobId: "done",
        provider: "openai",
        description: "to clean",
      });
      await client.submitBatch({ requests: exampleRequests(2), jobId: "to-cancel", provider: "openai" });
      harness.clock.advance(ENOUGH_TIME_MS);
      await client.submitBatch({ requests: exampleRequests(2), jobId: "running", provider: "openai" });

      const [statusText, statusJson] = await Promise.all([
        relay(["status", "done"], env),
        relay(["status", "to-cancel", "--json"], env),
      ]);
      const [showText, showJson, recovered, cleanEarly] = await Promise.all([
        relay(["show", "done"], env),
        relay(["show", "running", "--json"], env),
        relay(["recover", "running", "--json"], env),
        relay(["clean", "done"], env),
      ]);
      expect(statusText.stdout).toMatch(/^done: completed \(provider: completed\) 3\/3 done, 0 failed$/m);
      expect(JSON.parse(statusJson.stdout) as BatchJob).toMatchObject({
        jobId: "to-cancel",
        status: "completed",
        nRequests: 2,
      });
      expect(showText.stdout).toMatch(/^job\s+done$/m);
      expect(showText.stdout).toMatch(/^description\s+to clean$/m);
      expect(showText.stdout).toMatch(
        /^results\s+not fetched; the provider keeps them until \d{4}-\d\d-\d\dT/m,
      );
      expect(showText.stdout).toMatch(/^BATCH\s+PROVIDER ID\s+MODEL\s+STATE\s+STATUS/m);
      expect(JSON.parse(showJson.stdout)).toEqual(
        JSON.parse(await readFile(join(harness.directory, "running.json"), "utf8")),
      );
      expect(JSON.parse(recovered.stdout)).toMatchObject({ jobId: "running", status: "pending" });
      expect(cleanEarly.code).toBe(1);
      expect(cleanEarly.stderr).toContain("[results_not_stored]");

      const cancelled = await relay(["cancel", "running", "--json"], env);
      expect(JSON.parse(cancelled.stdout)).toMatchObject({ jobId: "running", accepted: true });
      const again = await relay(["cancel", "to-cancel"], env);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("Nothing to cancel");

      await relay(["results", "done", "--json"], env);
      const record = await client.getJob("done");
      const files = [record?.shards[0]?.input_file_id, record?.shards[0]?.output_file_id];
      const cleaned = await relay(["clean", "done", "--json"], env);
      expect(JSON.parse(cleaned.stdout).deleted.sort()).toEqual(files.sort());
      const cleanedAgain = await relay(["clean", "done"], env);
      expect(cleanedAgain.stderr).toContain("Nothing left to delete");

      const jobCommands = [
        "status",
        "show",
        "watch",
        "results",
        "retry",
        "cost",
        "cancel",
        "recover",
        "clean",
      ];
      const unknown = await Promise.all(jobCommands.map((command) => relay([command, "nope"], env)));
      const missing = await Promise.all(
        jobCommands.filter((command) => command !== "cost").map((command) => relay([command], env)),
      );
      unknown.forEach((run, index) => {
        expect({ command: jobCommands[index], code: run.code }).toEqual({
          command: jobCommands[index],
          code: 1,
        });
        expect(run.stderr).toMatch(/^relay: No job "nope" in this workspace.*\[job_not_found\]\n$/);
      });
      // What the user typed is shown with its control characters escaped, in usage errors too.
      const hostile = await relay(["status", "\u001b[31mred"], env);
      expect(hostile.code).toBe(64);
      expect(hostile.stderr).toContain("\\x1b[31mred");
      expect(hostile.stderr).not.toContain("\u001b[31m");
      for (const run of missing) {
        expect(run.code).toBe(64);
        expect(run.stderr).toContain("missing required argument 'job'");
      }
    }));
});

describe("relay and its workspace, options and emulator", () => {
  it.concurrent("a workspace that is a file, under a file, or read-only: one line and exit 1, nothing changed", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      const client = harness.client();
      await client.submitBatch({ requests: exampleRequests(2), jobId: "kept", provider: "openai" });
      harness.clock.advance(ENOUGH_TIME_MS);
      await client.retrieveBatchResults("kept");
      const file = join(harness.directory, "not-a-directory");
      await writeFile(file, "x");
      const requestsFile = join(harness.directory, "..", `requests-${process.pid}.jsonl`);
      await writeFile(requestsFile, JSON.stringify(exampleRequests(1)[0]));

      const notDirectory = await Promise.all(
        [["list"], ["status", "kept"], ["show", "kept"], ["results", "kept"], ["cost"]].flatMap((args) => [
          relay(["-d", file, ...args], env),
          relay([...args, "-d", join(file, "below")], env),
        ]),
      );
      for (const run of notDirectory) {
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(
          /^relay: The workspace .*not-a-directory(\/below)? is not a directory\..*\[workspace_not_a_directory\]\n$/,
        );
      }

      // Read-only: the root user may write anywhere, so the commands run as "nobody" then.
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const before = await workspaceListing(harness.directory);
      const contents = await readFile(join(harness.directory, "kept.json"), "utf8");
      const entries = await readdir(harness.directory, { recursive: true, withFileTypes: true });
      for (const entry of entries)
        await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o555 : 0o444);
      await chmod(harness.directory, 0o555);
      await chmod(requestsFile, 0o444);
      try {
        const [list, show, results, status, submit] = await Promise.all([
          relay(["list"], env, asUser),
          relay(["show", "kept"], env, asUser),
          relay(["results", "kept", "--json"], env, asUser),
          relay(["status", "kept"], env, asUser),
          relay(["submit", requestsFile, "--job", "new", "-p", "openai"], env, asUser),
        ]);
        expect(list.code, list.stderr).toBe(0);
        expect(list.stdout).toMatch(/^kept\s+openai\s+completed/m);
        expect(show.code).toBe(0);
        expect(results.code).toBe(0);
        expect(results.stdout.trim().split("\n")).toHaveLength(2);
        for (const run of [status, submit]) {
          expect(run.code).toBe(1);
          expect(run.stderr.trim().split("\n")).toHaveLength(1);
          expect(run.stderr).toMatch(/\[(workspace_not_writable|EACCES|EROFS)\]/);
          expect(noStackTrace(run.stderr)).toBe(true);
        }
      } finally {
        await chmod(harness.directory, 0o755);
        for (const entry of entries)
          await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
      }
      expect(await workspaceListing(harness.directory)).toEqual(before);
      expect(await readFile(join(harness.directory, "kept.json"), "utf8")).toBe(contents);
    }));

  it.concurrent("--request-timeout and RELAY_REQUEST_TIMEOUT_MS bound each request; bad values are usage errors", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      await harness.client().submitBatch({ requests: exampleRequests(1), jobId: "slow", provider: "openai" });
      const batchPath = /\/openai\/v1\/batches\/[^/]+$/;
      const gets = () =>
        harness.emulator.requestLog.filter((entry) => entry.method === "GET" && batchPath.test(entry.path))
          .length;
      for (const [args, extra] of [
        [["--request-timeout", "1", "status", "slow"], {}],
        [["status", "slow"], { RELAY_REQUEST_TIMEOUT_MS: "1000" }],
      ] as const) {
        const before = gets();
        // The server holds the first check for a minute: the timeout gives up on it, and the retry gets an answer.
        harness.emulator.faults.add({
          method: "GET",
          path: batchPath,
          action: { kind: "hold", ms: 60_000, phase: "before" },
        });
        const run = await relay([...args], { ...env, ...extra });
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain("slow: pending");
        expect(gets() - before).toBeGreaterThanOrEqual(1);
      }
      const bad = await Promise.all([
        relay(["list", "--request-timeout", "0"], env),
        relay(["list", "--request-timeout", "1e300"], env),
        relay(["status", "slow"], { ...env, RELAY_REQUEST_TIMEOUT_MS: "abc" }),
        relay(["status", "slow"], { ...env, RELAY_REQUEST_TIMEOUT_MS: "5" }),
      ]);
      expect(bad.map((run) => run.code)).toEqual([64, 64, 64, 64]);
      expect(bad[2]?.stderr).toMatch(
        /RELAY_REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 100/,
      );
    }));

  it.concurrent("relay emulator: checks --port, reports a port in use, and with --api-key expects that key", async () =>
    (async () => {
      const busy = createServer();
      busy.listen(0, "127.0.0.1");
      await once(busy, "listening");
      const busyPort = (busy.address() as { port: number }).port;
      const [letters, tooHigh, inUse] = await Promise.all([
        relay(["emulator", "--port", "abc"]),
        relay(["emulator", "--port", "99999"]),
        relay(["emulator", "--port", String(busyPort)]),
      ]);
      busy.close();
      expect([letters.code, tooHigh.code, inUse.code]).toEqual([64, 64, 1]);
      expect(letters.stderr).toMatch(/--port.*whole number from 0 to 65535/);
      expect(inUse.stderr).toMatch(
        new RegExp(`^relay: Port ${busyPort} on 127\\.0\\.0\\.1 is in use.*\\[port_in_use\\]\\n$`),
      );

      const { spawn } = await import("node:child_process");
      const child = spawn(process.execPath, [CLI, "emulator", "--port", "0", "--api-key", "local-key-123"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes("Stop with Ctrl-C.")) resolve();
          });
          child.once("exit", () => reject(new Error(`emulator exited: ${output}`)));
        });
        expect(output).toContain("It expects the API key: local-key-123");
        const base = /openai\s+(http:\/\/127\.0\.0\.1:\d+\/openai\/v1)/.exec(output)?.[1];
        for (const entry of providerEntries()) expect(output).toContain(`export ${entry.baseURLEnv}=`);
        const denied = await fetch(`${base}/batches`, { headers: { authorization: "Bearer wrong" } });
        expect(denied.status).toBe(401);
        const allowed = await fetch(`${base}/batches`, {
          headers: { authorization: "Bearer local-key-123" },
        });
        expect(allowed.status).toBe(200);
      } finally {
        child.kill("SIGTERM");
      }
      const [code] = (await once(child, "exit")) as [number];
      expect(code).toBe(0);
    })());

  it.concurrent("help lists every command, the providers' variables and the exit codes; each command has examples", async () =>
    (async () => {
      const [help, version, bare, ...perCommand] = await Promise.all([
        relay(["--help"]),
        relay(["--version"]),
        relay([]),
        ...COMMANDS.map((command) => relay([command.name, "--help"])),
      ]);
      expect(help.code).toBe(0);
      for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command.name}[| ]`, "m"));
      for (const entry of providerEntries()) {
        expect(help.stdout).toContain(entry.apiKeyEnv);
        expect(help.stdout).toContain(entry.baseURLEnv);
      }
      for (const code of [0, 1, 2, 3, 64, 70, 130])
        expect(help.stdout).toMatch(new RegExp(`^  ${code}\\s+\\S`, "m"));
      const packageJson = JSON.parse(await readFile(join(import.meta.dirname, "..", "package.json"), "utf8"));
      expect(version.stdout.trim()).toBe(packageJson.version);
      expect(bare.code).toBe(64);
      expect(bare.stderr).toContain("Usage: relay");
      perCommand.forEach((run, index) => {
        expect(run.code).toBe(0);
        expect(run.stdout).toContain(`Usage: relay ${COMMANDS[index]?.name}`);
        expect(run.stdout).toMatch(/Examples:\n {2}(# .*\n {2})?relay /);
        expect(run.stdout).toContain("-d, --directory <dir>");
      });
      const submitHelp = perCommand[COMMANDS.findIndex((command) => command.name === "submit")]?.stdout ?? "";
      for (const entry of providerEntries()) expect(submitHelp).toContain(`"${entry.name}"`);
      expect((await stat(CLI)).isFile()).toBe(true);
    })());
});
