import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RelayClient, supportedProviders } from "../src/index.js";
import { providerEntry } from "../src/providers/registry.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { relay } from "./support/relay-process.js";

/** Every way an error can be shown: message, stack, util.inspect (with causes) and JSON. */
function renderError(error: unknown): string {
  return [
    String(error),
    (error as Error)?.stack ?? "",
    inspect(error, { depth: 20, showHidden: true }),
    JSON.stringify(error) ?? "",
  ].join("\n");
}

describe("API keys never reach the workspace, logs, error messages or thrown objects", () => {
  let harness: Harness;
  const seen: string[] = [];
  beforeEach(async () => {
    harness = await startHarness();
    seen.length = 0;
  });
  afterEach(async () => {
    await harness.close();
  });

  async function capture(call: () => Promise<unknown>) {
    try {
      const value = await call();
      seen.push(inspect(value, { depth: 20 }));
    } catch (error) {
      seen.push(renderError(error));
    }
  }

  it.each(supportedProviders())(
    "%s: success, refusals, faults, unreachable hosts and the CLI",
    async (provider) => {
      const key = TEST_KEYS[provider];
      const client = harness.client({
        providers: {
          [provider]: { apiKey: key, baseURL: harness.emulator.baseURL(provider), maxRetries: 0 },
        },
      });
      const requests = exampleRequests(3, providerEntry(provider).demoModel);
      await capture(() => client.submitBatch({ requests, jobId: "ok", provider }));
      harness.clock.advance(ENOUGH_TIME_MS);
      await capture(() => client.monitorBatch("ok"));
      await capture(() => client.retrieveBatchResults("ok"));

      // The provider refuses: 401, 400, 500 on every call.
      for (const status of [401, 400, 500]) {
        harness.emulator.faults.add({
          path: `/${provider}/`,
          action: { kind: "status", status },
          times: 100,
        });
        await capture(() => client.submitBatch({ requests, jobId: `refused-${status}`, provider }));
        await capture(() => client.monitorBatch("ok"));
        await capture(() => client.retrieveBatchResults("ok", { forceRefresh: true }));
        harness.emulator.faults.clear();
      }

      // Nobody listening at the base URL.
      const unreachable = new RelayClient({
        directory: harness.directory,
        env: {},
        providers: { [provider]: { apiKey: key, baseURL: "http://127.0.0.1:9/v1", maxRetries: 0 } },
      });
      await capture(() => unreachable.submitBatch({ requests, jobId: "unreachable", provider }));
      await capture(() => unreachable.monitorBatch("ok"));

      // The CLI, with the key in the environment, printing errors and results.
      const env = harness.env(provider);
      const file = join(harness.directory, "requests.jsonl");
      await writeFile(file, requests.map((request) => JSON.stringify(request)).join("\n"));
      for (const args of [
        ["submit", file, "--job", "cli", "--provider", provider],
        ["status", "cli"],
        ["results", "ok", "--json"],
        ["show", "ok"],
        ["list"],
      ]) {
        const run = await relay(args, env);
        seen.push(run.stdout, run.stderr);
      }
      harness.emulator.faults.add({
        path: `/${provider}/`,
        action: { kind: "status", status: 401 },
        times: 100,
      });
      const denied = await relay(["status", "cli"], env);
      seen.push(denied.stdout, denied.stderr);
      expect(denied.code).toBe(1);

      for (const entry of await readdir(harness.directory, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) seen.push(await readFile(join(entry.parentPath, entry.name), "utf8"));
      }
      expect(seen.length).toBeGreaterThan(20);
      const leaks = seen.filter((text) => text.includes(key));
      expect(leaks).toEqual([]);
      // The check can fail: the key was really in use.
      expect(harness.emulator.requestLog.some((entry) => entry.status === 200)).toBe(true);
    },
  );

  /** An error body in the provider's shape whose message repeats the key, as some proxies do. */
  function echoingBody(provider: string, key: string): unknown {
    const message = `Request refused for API key ${key}; check your plan`;
    if (provider === "anthropic") return { type: "error", error: { type: "invalid_request_error", message } };
    return { error: { message, type: "invalid_request_error", param: null, code: null } };
  }

  it.each(supportedProviders())(
    "%s: a provider error that repeats the key is redacted from the record, the errors and the output",
    async (provider) => {
      const key = TEST_KEYS[provider];
      const client = harness.client();
      const requests = exampleRequests(2, providerEntry(provider).demoModel);
      // Every call refused (400, so creation is not retried) with a body that carries the key.
      harness.emulator.faults.add({
        method: "POST",
        path: `/${provider}/`,
        action: { kind: "status", status: 400, body: echoingBody(provider, key) },
        times: 100,
      });
      await capture(() => client.submitBatch({ requests, jobId: "echo", provider }));
      harness.emulator.faults.clear();
      await capture(() => client.submitBatch({ requests, jobId: "ok", provider }));
      harness.emulator.faults.add({
        method: "GET",
        path: `/${provider}/`,
        action: { kind: "status", status: 404, body: echoingBody(provider, key) },
        times: 100,
      });
      await capture(() => client.monitorBatch("ok"));
      const env = harness.env(provider);
      for (const args of [["status", "ok"], ["show", "echo"], ["status", "echo"], ["list"]]) {
        const run = await relay(args, env);
        seen.push(run.stdout, run.stderr);
      }
      for (const entry of await readdir(harness.directory, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) seen.push(await readFile(join(entry.parentPath, entry.name), "utf8"));
      }
      const leaks = seen.filter((text) => text.includes(key));
      expect(leaks).toEqual([]);
      // The check can fail: the provider's message did reach Relay, with the key taken out.
      expect(seen.some((text) => text.includes("[redacted API key]"))).toBe(true);
    },
  );
});
