import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Emulator } from "../src/emulator/index.js";
import { supportedProviders } from "../src/index.js";
import { exampleRequests, type Harness, startHarness } from "./support/harness.js";
import { CLI, relay } from "./support/relay-process.js";

describe("the relay command", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("runs the demo end to end against its own emulator, with no keys, and leaves the workspace", async () => {
    const directory = join(harness.directory, "demo");
    const { code, stdout } = await relay(["demo", "--directory", directory]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/pending \(provider: validating\)/);
    expect(stdout).toMatch(/completed \(provider: completed\) 3\/3 done/);
    expect(stdout).toContain("req-1: [gpt-4o-mini emulated");
    const results = JSON.parse(await readFile(join(directory, "my-batch-001_results.json"), "utf8"));
    expect(results.map((result: { id: string }) => result.id)).toEqual(["req-1", "req-2", "req-3"]);
    // Running it again replaces the demo job instead of failing.
    expect((await relay(["demo", "--directory", directory])).code).toBe(0);
  });

  // Concurrent: each demo waits on its own emulator's clock.
  it.concurrent.each(supportedProviders().filter((provider) => provider !== "openai"))(
    "runs the demo against the %s emulation",
    async (provider) => {
      // Its own directory: concurrent tests do not share the harness of beforeEach.
      const directory = await mkdtemp(join(tmpdir(), `relay-demo-${provider}-`));
      const { code, stdout } = await relay(["demo", "--provider", provider, "--directory", directory]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/my-batch-001: completed \(provider: \w+\) 3\/3 done, 0 failed/);
      expect(stdout.match(/^ {2}req-\d: \[/gm)).toHaveLength(3);
      await rm(directory, { recursive: true, force: true });
    },
  );

  it("submits a JSONL file, reports status, and prints results, each in a new process", async () => {
    const env = {
      OPENAI_API_KEY: "sk-cli-test",
      OPENAI_BASE_URL: harness.emulator.baseURL("openai"),
      RELAY_DIRECTORY: harness.directory,
    };
    const file = join(harness.directory, "requests.jsonl");
    await writeFile(
      file,
      exampleRequests(3)
        .map((request) => JSON.stringify(request))
        .join("\n"),
    );

    const submitted = await relay(["submit", file, "--job", "cli-job", "--provider", "openai"], env);
    expect(submitted.stderr).toBe("");
    expect(submitted.stdout).toContain("cli-job: pending");
    expect((await relay(["list"], env)).stdout).toMatch(/^cli-job\s+openai\s+pending\s+0\/0\/3\s/m);

    const early = await relay(["results", "cli-job"], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("[job_not_finished]");

    harness.clock.advance(60_000);
    expect((await relay(["status", "cli-job"], env)).stdout).toContain("cli-job: completed");
    const results = await relay(["results", "cli-job", "--json"], env);
    const lines = results.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual(["req-1", "req-2", "req-3"]);
    expect(lines.every((line) => line.status === "succeeded")).toBe(true);
  });

  it("explains bad input and missing keys with a non-zero exit", async () => {
    const file = join(harness.directory, "bad.jsonl");
    await writeFile(file, '{"id":"a","model":"m","prompt":"p"}\n{not json}\n');
    const env = {
      OPENAI_API_KEY: "sk-x",
      OPENAI_BASE_URL: harness.emulator.baseURL("openai"),
      RELAY_DIRECTORY: harness.directory,
    };
    const bad = await relay(["submit", file, "--job", "j", "--provider", "openai"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("line 2: not valid JSON");

    const keyless = await relay(["submit", file, "--job", "j", "--provider", "openai"], {
      RELAY_DIRECTORY: harness.directory,
    });
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain("OPENAI_API_KEY");

    const usage = await relay(["frobnicate"]);
    expect(usage.code).toBe(64);
    expect(harness.emulator.batchCount("openai")).toBe(0);
  });

  it("serves the emulator from the command line", async () => {
    const probe = await Emulator.start();
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [CLI, "emulator", "--port", String(port)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("listening")) resolve();
        });
        child.once("exit", () => reject(new Error("emulator exited")));
      });
      const response = await fetch(`http://127.0.0.1:${port}/openai/v1/batches`, {
        headers: { authorization: "Bearer emulator" },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ object: "list", data: [] });
    } finally {
      child.kill("SIGTERM");
    }
  });
});
