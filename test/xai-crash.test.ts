import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { killHard, relay, startRelay } from "./support/relay-process.js";

const MODEL = "grok-4.3";
const CREATE = /^\/xai\/v1\/batches$/;
const ADD = /^\/xai\/v1\/batches\/[^/]+\/requests$/;

/**
 * The `relay` process is killed hard while one of its xAI calls is held in the emulator: before the call took effect,
 * or after it did and before its answer arrived. Whatever the route back, every shard ends with one batch holding
 * each of its requests exactly once.
 */
const KILL_POINTS = [
  { name: "after a batch was created, before the record knew it", path: CREATE, phase: "after", nth: 1 },
  { name: "with the first add call in flight, before it took effect", path: ADD, phase: "before", nth: 1 },
  { name: "after an add call took effect, before its answer arrived", path: ADD, phase: "after", nth: 1 },
  { name: "after the second shard's add call took effect", path: ADD, phase: "after", nth: 2 },
] as const;
const ROUTES = ["recover", "monitorBatch", "submit again"] as const;

describe("a submission to xAI killed at any step is recovered with no lost or doubled request", () => {
  let harness: Harness;
  let file: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    harness = await startHarness();
    file = join(harness.directory, "..", `xai-requests-${Date.now()}-${Math.random()}.jsonl`);
    await writeFile(
      file,
      exampleRequests(6, MODEL)
        .map((request) => JSON.stringify(request))
        .join("\n"),
    );
    env = harness.env("xai");
  });
  afterEach(async () => {
    await harness.close();
  });

  const submitArgs = ["submit", "", "--job", "crash", "--provider", "xai", "--max-batch-requests", "2"];

  async function killAt(point: (typeof KILL_POINTS)[number]) {
    for (let index = 1; index < point.nth; index += 1) {
      harness.emulator.faults.add({ method: "POST", path: point.path, action: { kind: "delay", ms: 0 } });
    }
    harness.emulator.faults.add({
      method: "POST",
      path: point.path,
      action: { kind: "hold", ms: 60_000, phase: point.phase },
    });
    const child = startRelay(submitArgs.with(1, file), env);
    const held = once(harness.emulator.events, "held");
    const exited = once(child, "exit").then(() => {
      throw new Error("relay exited before reaching the kill point");
    });
    await Promise.race([held, exited]);
    await killHard(child);
    harness.emulator.faults.clear();
  }

  for (const [index, point] of KILL_POINTS.entries()) {
    const route = ROUTES[index % ROUTES.length] as (typeof ROUTES)[number];
    it(`killed ${point.name}; recovered by ${route}`, async () => {
      await killAt(point);
      const client = harness.client({
        providers: {
          xai: { apiKey: TEST_KEYS.xai, baseURL: harness.emulator.baseURL("xai"), maxRequestsPerBatch: 2 },
        },
      });
      if (route === "recover") await client.recover("crash");
      else if (route === "monitorBatch") await client.monitorBatch("crash");
      else expect((await relay(submitArgs.with(1, file), env)).stderr).toBe("");

      const record = await client.getJob("crash");
      expect(record?.shards.map((shard) => [shard.state, shard.requests_added])).toEqual(
        Array(3).fill(["created", 2]),
      );
      expect(harness.emulator.batchCount("xai")).toBe(3);
      const added = harness.emulator.providers.xai.addCalls.flatMap((call) => call.ids);
      expect([...added].sort()).toEqual(
        exampleRequests(6)
          .map((request) => request.id)
          .sort(),
      );

      harness.clock.advance(ENOUGH_TIME_MS);
      expect((await client.monitorBatch("crash")).status).toBe("completed");
      const results = await client.retrieveBatchResults("crash");
      expect(results.map((result) => [result.id, result.status])).toEqual(
        exampleRequests(6).map((request) => [request.id, "succeeded"]),
      );
    });
  }
});
