import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RelayClient } from "../../src/index.js";
import { providerEntries } from "../../src/providers/registry.js";
import type { ProviderConfig } from "../../src/providers/types.js";
import type { BatchRequest, ProviderName } from "../../src/types.js";
import { ENOUGH_TIME_MS, type Harness, TEST_KEYS } from "./harness.js";

/** Every provider at the emulator with its test key; OpenAI batches of 2 requests, so that jobs have several. */
export function dashboardProviders(harness: Harness): Partial<Record<ProviderName, ProviderConfig>> {
  return Object.fromEntries(
    providerEntries().map((entry): [ProviderName, ProviderConfig] => [
      entry.name,
      {
        apiKey: TEST_KEYS[entry.name],
        baseURL: harness.emulator.baseURL(entry.name),
        maxRetries: 1,
        ...(entry.name === "openai" ? { maxRequestsPerBatch: 2 } : {}),
      },
    ]),
  );
}

/** What a crafted job tries to run in the page, each try setting window.__pwned to say which field let it in. */
export const INJECTION = {
  description: `<img src=x onerror="window.__pwned='description'"><script>window.__pwned='description-script'</script>`,
  requestIds: ["<img/src=x/onerror=window.__pwned='request-id'>", '"><svg/onload=window.__pwned=2>', "=1+2"],
  prompt: `<img src=x onerror="window.__pwned='output'"><script>window.__pwned='output-script'</script>`,
};

function requests(prefix: string, count: number, model = "gpt-4o-mini"): BatchRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index + 1}`,
    model,
    prompt: `Label item ${index + 1} of ${prefix}`,
    maxTokens: 64,
  }));
}

/**
 * A workspace of jobs at the emulator, in every state the dashboard shows:
 * - `labels`: finished at OpenAI, results stored, one request failed and one expired (retryable);
 * - `claude-done`: finished at Anthropic, results not fetched yet (a results deadline);
 * - `running`: 6 requests in 3 OpenAI batches, just validated;
 * - `cancel-me`: 4 requests at Anthropic, running;
 * - `crafted`: a finished job whose description, request IDs and model output are markup and script;
 * - `broken`: a record that is not JSON.
 * The clock is at the moment `running` and `cancel-me` were submitted, plus 600 ms (past validation).
 */
export async function buildDashboardWorkspace(harness: Harness): Promise<RelayClient> {
  const client = harness.client({ providers: dashboardProviders(harness) });
  harness.emulator.setFate("labels-2", "fail");
  harness.emulator.setFate("labels-5", "expire");
  await client.submitBatch({
    requests: requests("labels", 6),
    jobId: "labels",
    provider: "openai",
    description: "Sentiment labels for the support tickets",
  });
  await client.submitBatch({
    requests: [
      ...INJECTION.requestIds.map((id) => ({ id, model: "gpt-4o-mini", prompt: INJECTION.prompt })),
      { id: "plain", model: "gpt-4o-mini", prompt: "Nothing odd here" },
    ],
    jobId: "crafted",
    provider: "openai",
    description: INJECTION.description,
  });
  await client.submitBatch({
    requests: requests("claude", 3, "claude-sonnet-4-5"),
    jobId: "claude-done",
    provider: "anthropic",
    description: "Summaries by Claude",
  });
  // Past OpenAI's 24 hours: the expiring request expires, everything else has finished.
  harness.clock.advance(25 * 60 * 60_000);
  await client.retrieveBatchResults("labels");
  await client.retrieveBatchResults("crafted");
  await client.monitorBatch("claude-done");

  await client.submitBatch({
    requests: requests("running", 6),
    jobId: "running",
    provider: "openai",
    description: "Translations, watched live",
  });
  await client.submitBatch({
    requests: requests("cancel", 4, "claude-sonnet-4-5"),
    jobId: "cancel-me",
    provider: "anthropic",
    description: "A job to cancel",
  });
  harness.clock.advance(600);
  await client.monitorBatch("running");
  await client.monitorBatch("cancel-me");
  await writeFile(join(harness.directory, "broken.json"), '{"job_id": "broken", "status": ');
  return client;
}

/** Moves every batch of the workspace to the end (and past it). */
export const FINISH_ALL_MS = ENOUGH_TIME_MS;
