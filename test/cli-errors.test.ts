/**
 * The `relay` command under ordinary bad conditions: each ends with one line saying what is wrong and a
 * documented exit code (never a stack trace), and what it prints cannot drive the terminal.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { CLI, relay } from "./support/relay-process.js";

/** A failed command's stderr: one message line (usage errors add the pointer to --help), no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split("\n");
  expect(lines[0]).toMatch(/^relay: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("the relay command explains ordinary failures in one line", () => {
  let harness: Harness;
  let env: Record<string, string>;
  beforeEach(async () => {
    harness = await startHarness();
    env = harness.env("openai");
  });
  afterEach(async () => {
    await harness.close();
  });

  async function submitted(jobId: string) {
    await harness.client().submitBatch({ requests: exampleRequests(2), jobId, provider: "openai" });
  }

  it("a directory given as the requests file, and an option whose value looks like an option", async () => {
    const asFile = await relay(["submit", harness.directory, "--job", "j", "--provider", "openai"], env);
    expect(asFile.code).toBe(1);
    expectOneLine(asFile.stderr, /is a directory.*\[invalid_input_file\]$/);
    const requests = join(harness.directory, "requests.jsonl");
    await writeFile(requests, `${JSON.stringify(exampleRequests(1)[0])}\n`);
    const dashed = await relay(["submit", requests, "--job", "-x", "--provider", "openai"], env);
    expect(dashed.code).toBe(64);
    expectOneLine(dashed.stderr, /--job/);
    expect(harness.emulator.requestLog).toEqual([]);
  });

  it.each(["0", "abc", "-5", "1e300", ""])(
    "wait --interval %j is a usage error, not a tight loop",
    async (interval) => {
      await submitted("w");
      const calls = harness.emulator.requestLog.length;
      const run = await relay(["wait", "w", "--interval", interval], env, { timeoutMs: 5_000 });
      expect(run.code).toBe(64);
      expectOneLine(run.stderr, /--interval/);
      expect(harness.emulator.requestLog.length).toBe(calls);
    },
  );

  it("a workspace path that is a file, for list, show, status and results", async () => {
    const file = join(harness.directory, "not-a-directory");
    await writeFile(file, "");
    for (const args of [["list"], ["show", "j"], ["status", "j"], ["results", "j"]]) {
      const run = await relay(args, { ...env, RELAY_DIRECTORY: file });
      expect(run.code).toBe(1);
      expectOneLine(run.stderr, /not a directory.*\[workspace_not_a_directory\]$/);
    }
  });

  it("a workspace that cannot be written: status is refused in one line, list and show still read it", async () => {
    await submitted("ro");
    const internal = join(harness.directory, ".relay");
    if (process.getuid?.() === 0) {
      // Permissions do not stop root: a file where Relay's own directory should be stops every write the same way.
      await rm(internal, { recursive: true, force: true });
      await writeFile(internal, "");
    } else {
      await chmod(harness.directory, 0o500);
      await chmod(internal, 0o500);
    }
    try {
      const status = await relay(["status", "ro"], env);
      expect(status.code).toBe(1);
      expectOneLine(status.stderr, /\[workspace_not_writable\]$/);
      expect((await relay(["list"], env)).stdout).toMatch(/^ro +openai +pending/m);
      expect((await relay(["show", "ro"], env)).code).toBe(0);
    } finally {
      if (process.getuid?.() !== 0) {
        await chmod(harness.directory, 0o700);
        await chmod(internal, 0o700);
      }
    }
  });

  it("records with broken shards are reported, listed as corrupt, and never rewritten", async () => {
    await submitted("good");
    await submitted("nulls");
    await submitted("empty");
    for (const [jobId, shards] of [
      ["nulls", [null]],
      ["empty", [{}]],
    ] as const) {
      const path = join(harness.directory, `${jobId}.json`);
      const record = JSON.parse(await readFile(path, "utf8"));
      await writeFile(path, JSON.stringify({ ...record, shards }, null, 2));
    }
    const before = await readFile(join(harness.directory, "empty.json"), "utf8");
    for (const jobId of ["nulls", "empty"]) {
      for (const command of ["status", "results", "cancel"]) {
        const run = await relay([command, jobId], env);
        expect(run.code).toBe(1);
        expectOneLine(run.stderr, /shards\[0\].*\[corrupt_workspace\]$/);
      }
    }
    expect(await readFile(join(harness.directory, "empty.json"), "utf8")).toBe(before);
    // The listing itself works: every job is listed, the broken ones as corrupt.
    const list = await relay(["list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^good +openai +pending/m);
    expect(list.stdout).toMatch(/^nulls +.*corrupt/m);
    expect(list.stdout).toMatch(/^empty +.*corrupt/m);
    expect(list.stderr).not.toMatch(/^\s+at /m);
  });

  it("emulator --port: malformed or out of range is a usage error, a port in use is one line", async () => {
    for (const port of ["abc", "99999", "-1", "1.5"]) {
      const run = await relay(["emulator", "--port", port], {}, { timeoutMs: 5_000 });
      expect(run.code).toBe(64);
      expectOneLine(run.stderr, /--port/);
    }
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await relay(["emulator", "--port", String(port)], {}, { timeoutMs: 5_000 });
      expect(run.code).toBe(1);
      expectOneLine(run.stderr, /in use.*\[port_in_use\]$/);
    } finally {
      taken.close();
    }
  });

  it("--request-timeout gives up on a hung server, says it retries, and gets the answer", async () => {
    await submitted("hung");
    harness.emulator.faults.add({
      method: "GET",
      path: /\/batches\/batch_/,
      action: { kind: "delay", ms: 3_000 },
      times: 1,
    });
    const run = await relay(["status", "hung", "--request-timeout", "0.3"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("hung: pending");
    expect(run.stderr).toMatch(/^relay: openai: .*retrying/m);
    for (const bad of [
      ["--request-timeout", "0"],
      ["--request-timeout", "soon"],
    ]) {
      const refused = await relay(["status", "hung", ...bad], env);
      expect(refused.code).toBe(64);
      expectOneLine(refused.stderr, /--request-timeout/);
    }
    const fromEnv = await relay(["status", "hung"], { ...env, RELAY_REQUEST_TIMEOUT_MS: "abc" });
    expect(fromEnv.code).toBe(64);
    expectOneLine(fromEnv.stderr, /RELAY_REQUEST_TIMEOUT_MS/);
  });
});

describe("human-readable output cannot drive the terminal", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("control characters in a completion are shown as escapes; --json stays exact", async () => {
    const hostile = "Hi \u001b[31mred\u001b[0m \u009b2J \u202egnp.exe\r\nnext";
    const client = harness.client();
    await client.submitBatch({
      requests: [{ id: "evil", model: "gpt-4o-mini", prompt: hostile }],
      jobId: "tty",
      provider: "openai",
    });
    harness.clock.advance(60_000);
    const [result] = await client.retrieveBatchResults("tty");
    expect(result?.text).toContain("\u001b[31m");
    const env = harness.env("openai");

    const human = await relay(["results", "tty"], env);
    expect(human.code).toBe(0);
    // Nothing a terminal would act on: the answer's own line breaks are kept, indented under its ID, and every
    // other control or invisible formatting character is shown as an escape.
    const printed = human.stdout.trimEnd();
    expect(printed.replace(/\n {2}/g, "")).not.toMatch(/[\p{Cc}\u202a-\u202e]/u);
    expect(printed).toContain("\\x1b[31mred\\x1b[0m \\x9b2J \\u202egnp.exe\\r\n  next");

    const json = await relay(["results", "tty", "--json"], env);
    expect(JSON.parse(json.stdout.trim())).toEqual(JSON.parse(JSON.stringify(result)));
  });
});

describe("relay emulator asks for a key, as the providers do", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGTERM");
  });

  async function startEmulator(args: string[]): Promise<{ port: number; stdout: string }> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    child = spawn(process.execPath, [CLI, "emulator", "--port", String(port), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("Stop with Ctrl-C")) resolve();
      });
      child?.once("exit", () => reject(new Error(`emulator exited: ${stdout}`)));
    });
    return { port, stdout };
  }

  it("prints the key it expects and answers any other with each provider's 401", async () => {
    const { port, stdout } = await startEmulator(["--api-key", "sekrit-emulator-key"]);
    expect(stdout).toContain("It expects the API key: sekrit-emulator-key");
    expect(stdout).toContain("OPENAI_API_KEY=sekrit-emulator-key");
    const base = `http://127.0.0.1:${port}`;
    const get = (path: string, headers: Record<string, string>) => fetch(`${base}${path}`, { headers });

    const openaiWrong = await get("/openai/v1/batches", { authorization: "Bearer wrong-key-123456" });
    expect(openaiWrong.status).toBe(401);
    expect(await openaiWrong.json()).toMatchObject({
      error: { code: "invalid_api_key", type: "invalid_request_error" },
    });
    expect((await get("/openai/v1/batches", { authorization: "Bearer sekrit-emulator-key" })).status).toBe(
      200,
    );

    const anthropicWrong = await get("/anthropic/v1/messages/batches", {
      "x-api-key": "wrong",
      "anthropic-version": "2023-06-01",
    });
    expect(anthropicWrong.status).toBe(401);
    expect(await anthropicWrong.json()).toMatchObject({
      type: "error",
      error: { type: "authentication_error" },
    });
    expect(
      (
        await get("/anthropic/v1/messages/batches", {
          "x-api-key": "sekrit-emulator-key",
          "anthropic-version": "2023-06-01",
        })
      ).status,
    ).toBe(200);

    const togetherWrong = await get("/together/v1/batches", { authorization: "Bearer wrong" });
    expect(togetherWrong.status).toBe(401);
    expect(await togetherWrong.json()).toEqual({ error: expect.stringContaining("Invalid API key") });
    expect((await get("/together/v1/batches", { authorization: "Bearer sekrit-emulator-key" })).status).toBe(
      200,
    );
  });

  it("accepts any key unless given one, and says so", async () => {
    const { port, stdout } = await startEmulator([]);
    expect(stdout).toContain("It accepts any API key");
    const accepted = await fetch(`http://127.0.0.1:${port}/openai/v1/batches`, {
      headers: { authorization: `Bearer ${TEST_KEYS.openai}` },
    });
    expect(accepted.status).toBe(200);
    const missing = await fetch(`http://127.0.0.1:${port}/openai/v1/batches`);
    expect(missing.status).toBe(401);
  });
});
