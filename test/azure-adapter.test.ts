import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";
import { azureApi } from "../src/providers/azure/api.js";
import { azureEntry } from "../src/providers/azure/entry.js";
import { resolveProviderConfig } from "../src/providers/registry.js";
import { toProviderBatch } from "../src/providers/shared/openai-compatible/batch.js";
import { metadataFor } from "../src/providers/shared/tags.js";
import type { BatchLookup, ShardTags } from "../src/providers/types.js";

/** A v1 batch object in the shape of Azure's REST samples (values made up). */
const V1_VALIDATING = {
  cancelled_at: null,
  cancelling_at: null,
  completed_at: null,
  completion_window: "24h",
  created_at: "2024-07-19T17:13:57.2491382+00:00",
  error_file_id: null,
  expired_at: null,
  expires_at: "2024-07-20T17:13:57.1918498+00:00",
  failed_at: null,
  finalizing_at: null,
  id: "batch_fe3f047a-de39-4068-9008-346795bfc1db",
  in_progress_at: null,
  input_file_id: "file-21006e70789246658b86a1fc205899a4",
  errors: null,
  metadata: null,
  object: "batch",
  output_file_id: null,
  request_counts: { total: null, completed: null, failed: null },
  status: "Validating",
};

describe("Azure OpenAI adapter pieces", () => {
  it("registers under AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT", () => {
    expect(azureEntry).toMatchObject({
      name: "azure",
      apiKeyEnv: "AZURE_OPENAI_API_KEY",
      baseURLEnv: "AZURE_OPENAI_ENDPOINT",
      emulatorBasePath: "/azure",
      priceKey: "azure",
    });
    expect(azureEntry.limits).toMatchObject({ maxRequestsPerBatch: 100_000, maxBytesPerBatch: 200_000_000 });
  });

  it("picks the API from the api-version, as AzureOpenAI builds its URLs from the endpoint", () => {
    expect(azureApi("https://res.openai.azure.com/", undefined)).toEqual({
      kind: "v1",
      baseURL: "https://res.openai.azure.com/openai/v1",
      query: {},
      fileExpiry: true,
    });
    expect(azureApi("https://res.openai.azure.com", "v1").kind).toBe("v1");
    expect(azureApi("https://res.openai.azure.com", "2024-10-21")).toEqual({
      kind: "versioned",
      baseURL: "https://res.openai.azure.com/openai",
      query: { "api-version": "2024-10-21" },
      fileExpiry: false,
    });
    expect(azureApi("https://res.openai.azure.com", "2025-04-01-preview").fileExpiry).toBe(true);
    expect(azureApi("https://res.openai.azure.com", "2025-03-01-preview").fileExpiry).toBe(true);
    expect(azureApi("https://res.openai.azure.com", "2024-10-01-preview").fileExpiry).toBe(false);
    expect(() => azureApi(undefined, undefined)).toThrow(/AZURE_OPENAI_ENDPOINT/);
    expect(() => azureApi("res.openai.azure.com", undefined)).toThrow(/not a URL/);
    expect(() => azureApi("https://res.openai.azure.com", "2024-10")).toThrow(/api-version/);
  });

  it("reads the api-version from OPENAI_API_VERSION unless the configuration names one", async () => {
    const env = {
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
      OPENAI_API_VERSION: "x",
    };
    await expect(azureEntry.create(resolveProviderConfig(azureEntry, undefined, env))).rejects.toMatchObject({
      code: "invalid_api_version",
    });
    const adapter = await azureEntry.create(
      resolveProviderConfig(azureEntry, { apiVersion: "2024-10-21" }, env),
    );
    expect(adapter.name).toBe("azure");
  });

  it.each([
    ["Validating", "pending"],
    ["InProgress", "in_progress"],
    ["In_Progress", "in_progress"],
    ["in_progress", "in_progress"],
    ["Finalizing", "in_progress"],
    ["Completed", "completed"],
    ["Failed", "failed"],
    ["Expired", "expired"],
    ["Cancelling", "cancelling"],
    ["Cancelled", "cancelled"],
    ["canceled", "cancelled"],
    ["Queued", "in_progress"],
  ])("normalises status %s to %s", (raw, expected) => {
    expect(azureEntry.normaliseStatus(raw)).toBe(expected);
  });

  it("reads a v1 batch object: ISO timestamps, a capitalised status, null counts and file IDs", () => {
    expect(toProviderBatch(V1_VALIDATING)).toMatchObject({
      id: V1_VALIDATING.id,
      status: "pending",
      providerStatus: "Validating",
      total: 0,
      completed: 0,
      failed: 0,
      outputFileId: null,
      errorFileId: null,
      createdAt: Date.parse("2024-07-19T17:13:57.249Z"),
      error: null,
      raw: V1_VALIDATING,
    });
  });

  it("reads a versioned batch object: empty-string file IDs while validating, a failure's code", () => {
    const validating = {
      ...V1_VALIDATING,
      created_at: 1722476583,
      status: "validating",
      output_file_id: "",
      error_file_id: "",
    };
    expect(toProviderBatch(validating)).toMatchObject({
      outputFileId: null,
      errorFileId: null,
      createdAt: 1722476583_000,
    });
    const failed = toProviderBatch({
      ...validating,
      status: "Failed",
      request_counts: { total: 10, completed: null, failed: null },
      errors: { object: "list", data: [{ code: "too_many_tasks", message: "Too many requests." }] },
    });
    expect(failed).toMatchObject({
      status: "failed",
      total: 10,
      completed: 0,
      error: { code: "too_many_tasks" },
    });
  });

  it("reads an output line with content-filter results and no line id", () => {
    const line = {
      custom_id: "task-0",
      response: {
        body: {
          choices: [
            {
              content_filter_results: { hate: { filtered: false, severity: "safe" } },
              finish_reason: "stop",
              index: 0,
              logprobs: null,
              message: { content: "In 1975.", role: "assistant" },
            },
          ],
          model: "gpt-4o-2024-05-13",
          object: "chat.completion",
          prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
          usage: { completion_tokens: 24, prompt_tokens: 27, total_tokens: 51 },
        },
        request_id: "660b7424-b648-4b67-addc-862ba067d442",
        status_code: 200,
      },
      error: null,
    };
    expect(azureEntry.parseRecord(line)).toEqual({
      customId: "task-0",
      result: {
        status: "succeeded",
        text: "In 1975.",
        finishReason: "stop",
        usage: { inputTokens: 27, outputTokens: 24, totalTokens: 51 },
        model: "gpt-4o-2024-05-13",
        raw: line,
      },
    });
  });
});

describe("finding a batch after a lost answer, whatever order the list comes in", () => {
  let emulator: Emulator;
  const tags: ShardTags = { jobId: "j", shardIndex: 0, submissionId: "sub1", attempt: 0 };
  const since = Date.parse("2026-11-20T12:00:00Z");
  const seconds = (ms: number) => ms / 1000;
  const lookup: BatchLookup = {
    tags,
    since,
    inputFileId: null,
    nRequests: 1,
    previousBatchIds: [],
    knownBatchIds: async () => new Set(),
  };
  const batchAt = (id: string, createdMs: number, metadata: unknown = null) => ({
    ...V1_VALIDATING,
    id,
    created_at: seconds(createdMs),
    metadata,
  });

  beforeAll(async () => {
    emulator = await Emulator.start({ clock: new ManualClock(since) });
  });
  afterAll(async () => {
    await emulator.close();
  });

  async function adapter() {
    return azureEntry.create(
      resolveProviderConfig(
        azureEntry,
        { apiKey: "k", baseURL: emulator.baseURL("azure"), maxRetries: 0 },
        {},
      ),
    );
  }

  function listOnce(data: object[], hasMore: boolean) {
    emulator.faults.add({
      method: "GET",
      path: /\/batches$/,
      action: { kind: "status", status: 200, body: { object: "list", data, has_more: hasMore } },
    });
  }

  it("reads an oldest-first list to the end", async () => {
    const day = 24 * 60 * 60_000;
    listOnce([batchAt("batch_old", since - 30 * day), batchAt("batch_older", since - 31 * day)], true);
    listOnce([batchAt("batch_mine", since + 1_000, metadataFor(tags))], false);
    // The first page runs newest first (old, then older): the search stops there, as it should.
    expect(await (await adapter()).findBatch(lookup)).toBeNull();
    emulator.faults.clear();

    listOnce([batchAt("batch_old", since - 30 * day), batchAt("batch_newer", since - 29 * day)], true);
    listOnce([batchAt("batch_mine", since + 1_000, metadataFor(tags))], false);
    // Oldest first: never cut short, so the batch on the last page is found.
    expect((await (await adapter()).findBatch(lookup))?.id).toBe("batch_mine");
  });
});
