import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

describe("OpenAI round trip through the emulator", () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it("submits, monitors through every status and retrieves results in request order", async () => {
    const client = harness.client();
    const requests = exampleRequests(5);
    const job = await client.submitBatch({ requests, jobId: "job-1", provider: "openai", description: "first" });
    expect(job).toMatchObject({ jobId: "job-1", status: "pending", providerStatus: "validating", nRequests: 5 });

    harness.clock.advance(600);
    const running = await client.monitorBatch("job-1");
    expect(running.status).toBe("in_progress");
    expect(running.providerStatus).toBe("in_progress");

    harness.clock.advance(ENOUGH_TIME_MS);
    const done = await client.monitorBatch("job-1");
    expect(done).toMatchObject({ status: "completed", providerStatus: "completed", completedRequests: 5, failedRequests: 0 });

    const results = await client.retrieveBatchResults("job-1");
    expect(results.map((result) => result.id)).toEqual(requests.map((request) => request.id));
    for (const [index, result] of results.entries()) {
      expect(result.status).toBe("succeeded");
      expect(result.text).toContain(`Question number ${index + 1}`);
      expect(result.usage?.inputTokens).toBeGreaterThan(0);
      expect(result.finishReason).toBe("stop");
    }
  });
});
