import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchResult } from "../src/index.js";
import { jsonLines } from "./support/cli.js";
import { ENOUGH_TIME_MS, type Harness, startHarness } from "./support/harness.js";
import { relay } from "./support/relay-process.js";

const SCHEMA = {
  type: "object",
  properties: {
    sentiment: { enum: ["positive", "negative"] },
    reason: { type: "string" },
  },
  required: ["sentiment", "reason"],
  additionalProperties: false,
};

describe("relay submit --schema", () => {
  let harness: Harness;
  // Input files live apart from the workspace, where a .json file would read as a job record.
  let inputs: string;
  beforeEach(async () => {
    harness = await startHarness();
    inputs = await mkdtemp(join(tmpdir(), "relay-inputs-"));
  });
  afterEach(async () => {
    await harness.close();
    await rm(inputs, { recursive: true, force: true });
  });

  it("asks every request for the schema's JSON and brings it back checked, as json", async () => {
    const env = harness.env("anthropic");
    const schema = join(inputs, "sentiment.schema.json");
    await writeFile(schema, JSON.stringify(SCHEMA));
    const csv = join(inputs, "reviews.csv");
    await writeFile(csv, "id,prompt\nr1,Loved it\nr2,Hated it\n");
    const submitted = await relay(
      ["submit", csv, "-p", "anthropic", "-m", "claude-sonnet-4-5", "--schema", schema, "--job", "reviews"],
      env,
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const sent = harness.emulator.providers.anthropic.lastCreated?.requests ?? [];
    expect(sent).toHaveLength(2);
    expect(JSON.stringify(sent[0]?.params)).toContain('"sentiment"');

    harness.clock.advance(ENOUGH_TIME_MS);
    const results = jsonLines<BatchResult>((await relay(["results", "reviews", "--json"], env)).stdout);
    expect(results.map((result) => [result.status, result.error?.message])).toEqual([
      ["succeeded", undefined],
      ["succeeded", undefined],
    ]);
    for (const result of results) {
      const json = result.json as { sentiment: string; reason: string };
      expect(["positive", "negative"]).toContain(json.sentiment);
      expect(typeof json.reason).toBe("string");
    }
  });

  it("refuses a schema file that is not JSON before anything is sent", async () => {
    const env = harness.env("anthropic");
    const csv = join(inputs, "in.csv");
    await writeFile(csv, "id,prompt\nr1,Hello\n");
    const broken = join(inputs, "broken.json");
    await writeFile(broken, "{ not json");
    const bad = await relay(
      ["submit", csv, "-p", "anthropic", "-m", "claude-sonnet-4-5", "--schema", broken],
      env,
    );
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--schema .*not valid JSON/);
    expect(harness.emulator.requestLog).toEqual([]);
    expect(await harness.client().listJobs()).toEqual([]);
  });
});
