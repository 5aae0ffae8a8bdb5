import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { batchAt, fileRecords } from "./support/openai-compatible.js";

describe("the emulator keeps uploads on disk", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("in a scratch directory of its own, removed when it closes; results are made from the stored file", async () => {
    const client = harness.client();
    const requests = exampleRequests(5);
    await client.submitBatch({ requests, jobId: "stored", provider: "openai" });
    const emulation = harness.emulator.providers.openai;
    const upload = emulation.files.list().find((file) => file.purpose === "batch");
    expect(upload?.path).toBeTruthy();
    const path = upload?.path as string;
    expect(existsSync(path)).toBe(true);
    // The upload reads back byte for byte from disk.
    expect(fileRecords(emulation, upload?.id).map((line) => line.custom_id)).toEqual(
      requests.map((request) => request.id),
    );

    // Deleting the input file once the batch exists leaves the batch able to make its results.
    await fetch(`${harness.emulator.baseURL("openai")}/files/${upload?.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TEST_KEYS.openai}` },
    });
    expect(existsSync(path)).toBe(false);
    harness.clock.advance(ENOUGH_TIME_MS);
    const results = await client.retrieveBatchResults("stored");
    expect(results.map((result) => [result.id, result.status])).toEqual(
      requests.map((request) => [request.id, "succeeded"]),
    );
    const output = fileRecords(emulation, batchAt(emulation).outputFileId);
    expect(output).toHaveLength(requests.length);

    const scratch = dirname(path);
    expect(existsSync(scratch)).toBe(true);
    await harness.emulator.close();
    expect(existsSync(scratch)).toBe(false);
  });
});
