import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/emulator/index.js";
import { anthropicEntry } from "../src/providers/anthropic/entry.js";
import { resolveProviderConfig } from "../src/providers/registry.js";
import type { BatchLookup, ParsedResult, ProviderAdapter, ShardTags } from "../src/providers/types.js";
import { type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

const MODEL = "claude-sonnet-4-5";

function batchRequests(prefix: string, count: number) {
  return Array.from({ length: count }, (_, index) => ({
    custom_id: `${prefix}-${index}`,
    params: {
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: "user" as const, content: `${prefix} number ${index}` }],
    },
  }));
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("AnthropicAdapter against the emulator", () => {
  // Recovery compares the provider's created_at with the local clock, so the emulator's clock starts at now.
  let clock: ManualClock;
  let harness: Harness;
  let sdk: Anthropic;
  let adapter: ProviderAdapter;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    harness = await startHarness({ clock });
    const baseURL = harness.emulator.baseURL("anthropic");
    sdk = new Anthropic({ apiKey: TEST_KEYS.anthropic, baseURL, maxRetries: 0 });
    adapter = await anthropicEntry.create(
      resolveProviderConfig(anthropicEntry, { apiKey: TEST_KEYS.anthropic, baseURL }, {}),
    );
  });
  afterEach(async () => {
    await harness.close();
  });

  const tags = (shardIndex: number): ShardTags => ({
    jobId: "job",
    shardIndex,
    submissionId: "sub-1",
    attempt: 0,
  });
  const lookup = (overrides: Partial<BatchLookup> = {}): BatchLookup => ({
    tags: tags(0),
    since: clock.now(),
    inputFileId: null,
    nRequests: 3,
    previousBatchIds: [],
    knownBatchIds: async () => new Set<string>(),
    ...overrides,
  });

  it("finds a lost batch by creation time and request count, never handing one batch to two shards", async () => {
    const since = clock.now();
    const small = await sdk.messages.batches.create({ requests: batchRequests("small", 2) });
    clock.advance(1_000);
    const first = await sdk.messages.batches.create({ requests: batchRequests("first", 3) });
    clock.advance(1_000);
    const second = await sdk.messages.batches.create({ requests: batchRequests("second", 3) });

    expect((await adapter.findBatch(lookup({ since, nRequests: 2 })))?.id).toBe(small.id);
    expect(await adapter.findBatch(lookup({ since, nRequests: 4 }))).toBeNull();
    // Two shards of three requests: the earliest batch to the first shard asking, the other to the next.
    expect((await adapter.findBatch(lookup({ since, tags: tags(1) })))?.id).toBe(first.id);
    expect((await adapter.findBatch(lookup({ since, tags: tags(2) })))?.id).toBe(second.id);
    // Asking again for the same shard gives the same batch.
    expect((await adapter.findBatch(lookup({ since, tags: tags(1) })))?.id).toBe(first.id);
    expect(await adapter.findBatch(lookup({ since, tags: tags(3) }))).toBeNull();
    // A batch of an earlier attempt is never the answer.
    expect(
      await adapter.findBatch(lookup({ since, tags: tags(1), previousBatchIds: [first.id] })),
    ).toBeNull();
  });

  it("never adopts a batch that another job of the workspace already recorded", async () => {
    const since = clock.now();
    const other = await sdk.messages.batches.create({ requests: batchRequests("other", 3) });
    const known = async () => new Set([other.id]);
    expect(await adapter.findBatch(lookup({ since, knownBatchIds: known }))).toBeNull();
    const ours = await sdk.messages.batches.create({ requests: batchRequests("ours", 3) });
    expect((await adapter.findBatch(lookup({ since, knownBatchIds: known })))?.id).toBe(ours.id);
  });

  it("ignores batches created outside the window around the lost create call", async () => {
    await sdk.messages.batches.create({ requests: batchRequests("old", 3) });
    // Created more than 10 minutes before the create call: not ours.
    clock.advance(11 * 60_000);
    expect(await adapter.findBatch(lookup({ since: clock.now() }))).toBeNull();
    // Created long after the call had given up (10-minute timeout plus 10 minutes of slack): not ours either.
    const later = await sdk.messages.batches.create({ requests: batchRequests("later", 4) });
    expect(await adapter.findBatch(lookup({ since: clock.now() - 21 * 60_000, nRequests: 4 }))).toBeNull();
    expect((await adapter.findBatch(lookup({ since: clock.now() - 60_000, nRequests: 4 })))?.id).toBe(
      later.id,
    );
  });

  it("adopts the batch when the answer to the create call is lost, creating no duplicate", async () => {
    const { emulator } = harness;
    emulator.faults.add({
      method: "POST",
      path: "/anthropic/v1/messages/batches",
      action: { kind: "drop_response" },
    });
    const client = harness.client();
    const requests = ["a", "b", "c"].map((id) => ({ id, model: MODEL, prompt: `prompt ${id}` }));
    const job = await client.submitBatch({ requests, jobId: "lost-answer", provider: "anthropic" });
    expect(emulator.batchCount("anthropic")).toBe(1);
    expect(job.providerBatchIds).toEqual([emulator.providers.anthropic.lastCreated?.id]);
    expect(job.status).toBe("in_progress");
  });

  it("reads every result line exactly once when the download is cut midway", async () => {
    const created = await sdk.messages.batches.create({ requests: batchRequests("row", 8) });
    clock.advance(60_000);
    harness.emulator.faults.add({
      method: "GET",
      path: /\/results$/,
      action: { kind: "cut", afterBytes: 1_000 },
    });
    const batch = await adapter.getBatch(created.id);
    expect(batch).toMatchObject({
      status: "completed",
      providerStatus: "ended",
      total: 8,
      completed: 8,
      failed: 0,
    });

    const parsed: ParsedResult[] = await collect(adapter.readResults(batch));
    const ids = parsed.map((result) => result.customId);
    expect(ids).toHaveLength(8);
    expect(new Set(ids)).toEqual(new Set(batchRequests("row", 8).map((request) => request.custom_id)));
    const downloads = harness.emulator.requestLog.filter((entry) => entry.path.endsWith("/results"));
    expect(downloads).toHaveLength(2);
  });

  it("says when a batch has no results yet rather than returning none", async () => {
    const created = await sdk.messages.batches.create({ requests: batchRequests("early", 1) });
    const batch = await adapter.getBatch(created.id);
    await expect(collect(adapter.readResults(batch))).rejects.toMatchObject({ code: "results_unavailable" });
  });
});
