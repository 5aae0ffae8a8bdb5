import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchResult, JobCost } from "../src/index.js";
import { supportedProviders } from "../src/index.js";
import { jsonLines } from "./support/cli.js";
import { ENOUGH_TIME_MS, type Harness, startHarness } from "./support/harness.js";
import { relay } from "./support/relay-process.js";

/**
 * Batch prices checked by hand against each provider's own price page, in US dollars per million tokens, before
 * the batch discount (which is applied apart, as the providers document it). A provider registered without a row
 * here is listed as a test to write.
 */
const HAND_CHECKED: Partial<
  Record<string, { model: string; input: number; output: number; batchMultiplier: number }>
> = {
  // https://openai.com/api/pricing (gpt-4o-mini: $0.15 in, $0.60 out); batches 50% off.
  openai: { model: "gpt-4o-mini", input: 0.15, output: 0.6, batchMultiplier: 0.5 },
  // https://www.anthropic.com/pricing (Claude Sonnet 4.5, prompts up to 200k tokens: $3 in, $15 out); batches 50% off.
  anthropic: { model: "claude-sonnet-4-5", input: 3, output: 15, batchMultiplier: 0.5 },
  // https://www.together.ai/pricing (Llama 3.3 70B Instruct Turbo: $0.88 in and out); batches up to 50% off.
  together: {
    model: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    input: 0.88,
    output: 0.88,
    batchMultiplier: 0.5,
  },
  // https://ai.google.dev/gemini-api/docs/pricing (Gemini 2.5 Flash: $0.30 in, $2.50 out); batch mode 50% off.
  gemini: { model: "gemini-2.5-flash", input: 0.3, output: 2.5, batchMultiplier: 0.5 },
  // https://mistral.ai/pricing (Mistral Small: $0.10 in, $0.30 out); batch 50% off.
  mistral: { model: "mistral-small-latest", input: 0.1, output: 0.3, batchMultiplier: 0.5 },
  // https://groq.com/pricing (Llama 3.1 8B Instant: $0.05 in, $0.08 out); https://console.groq.com/docs/batch: 25% off.
  groq: { model: "llama-3.1-8b-instant", input: 0.05, output: 0.08, batchMultiplier: 0.75 },
  // Azure OpenAI, global standard gpt-4o-mini: $0.15 in, $0.60 out; global batch 50% off.
  azure: { model: "gpt-4o-mini", input: 0.15, output: 0.6, batchMultiplier: 0.5 },
  // grok-4.3, prompts under 200k tokens: $1.25 in, $2.50 out, as the price table lists it (docs.x.ai's pricing page
  // could not be read here); the Batch API guide: 50% of the price.
  xai: { model: "grok-4.3", input: 1.25, output: 2.5, batchMultiplier: 0.5 },
};

const MAX_TOKENS = 5;
const PROMPTS = ["What is the capital of France?", "Name a prime number.", "Spell 'batch' backwards."];

describe("relay cost, against hand-computed figures", () => {
  let harness: Harness;
  let env: Record<string, string>;
  const costs = new Map<string, number>();
  beforeAll(async () => {
    harness = await startHarness();
    env = Object.assign({}, ...supportedProviders().map((provider) => harness.env(provider)));
  });
  afterAll(async () => {
    await harness.close();
  });

  for (const provider of supportedProviders()) {
    const prices = HAND_CHECKED[provider];
    if (!prices) {
      it.todo(`${provider}: add hand-checked batch prices for one of its models`);
      continue;
    }
    it.concurrent(`${provider} (${prices.model}): the estimate before and the cost after`, async () => {
      const file = join(harness.directory, `${provider}.csv`);
      const rows = PROMPTS.map((prompt, index) => `q${index + 1},"${prompt}",${prices.model},${MAX_TOKENS}`);
      await writeFile(file, `id,prompt,model,max_tokens\n${rows.join("\n")}\n`);
      const job = `cost-${provider}`;
      const perMillion = (input: number, output: number) =>
        ((input * prices.input + output * prices.output) / 1e6) * prices.batchMultiplier;

      const dryRun = await relay(["submit", file, "-p", provider, "--dry-run", "--json"], env);
      expect(dryRun.code, dryRun.stderr).toBe(0);
      const { estimate } = JSON.parse(dryRun.stdout);
      // The most it can cost: every request at its max_tokens.
      expect(estimate.outputTokens).toBe(PROMPTS.length * MAX_TOKENS);
      expect(estimate.costUsd).toBeCloseTo(perMillion(estimate.inputTokens, estimate.outputTokens), 12);

      const submitted = await relay(["submit", file, "-p", provider, "--job", job], env);
      expect(submitted.code, submitted.stderr).toBe(0);
      const before = JSON.parse((await relay(["cost", job, "--json"], env)).stdout) as JobCost;
      expect(before).toMatchObject({ jobId: job, resultsStored: false, costUsd: null });
      expect(before.estimate?.output_tokens).toBe(PROMPTS.length * MAX_TOKENS);

      harness.clock.advance(ENOUGH_TIME_MS);
      const results = jsonLines<BatchResult>((await relay(["results", job, "--json"], env)).stdout);
      expect(results.map((result) => result.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
      const input = results.reduce((sum, result) => sum + (result.usage?.inputTokens ?? 0), 0);
      const output = results.reduce((sum, result) => sum + (result.usage?.outputTokens ?? 0), 0);
      const reasoning = results.reduce((sum, result) => sum + (result.usage?.reasoningTokens ?? 0), 0);
      // The emulator's replies are longer than 5 tokens, so each was cut at max_tokens; a reasoning model's
      // thinking comes on top (xAI counts it apart from the answer, and bills it as output).
      expect(output - reasoning).toBe(PROMPTS.length * MAX_TOKENS);
      expect(input).toBeGreaterThan(0);

      const [json, text] = await Promise.all([
        relay(["cost", job, "--json"], env),
        relay(["cost", job], env),
      ]);
      const cost = JSON.parse(json.stdout) as JobCost;
      expect(cost).toMatchObject({
        jobId: job,
        provider,
        resultsStored: true,
        inputTokens: input,
        outputTokens: output,
      });
      expect(cost.costUsd).toBeCloseTo(perMillion(input, output), 12);
      expect(cost.byModel[prices.model]?.requests).toBe(3);
      expect(cost.batchDiscount.multiplier).toBe(prices.batchMultiplier);
      expect(text.stdout).toContain(`$${(cost.costUsd as number).toFixed(6)}`);
      expect(text.stderr).toContain(
        `Batch prices (${provider}): ${prices.batchMultiplier * 100}% of @pydantic/genai-prices`,
      );
      costs.set(provider, cost.costUsd as number);
    });
  }

  it("for the whole workspace: a total of the jobs with results, the others named, an unknown price never $0", async () => {
    // Runs after the concurrent tests above, on the same workspace.
    expect(costs.size).toBeGreaterThan(0);
    const client = harness.client();
    await client.submitBatch({
      requests: [{ id: "r1", model: "gpt-4o-mini", prompt: "not finished" }],
      jobId: "unfinished",
      provider: "openai",
    });
    const all = JSON.parse((await relay(["cost", "--json"], env)).stdout);
    const expected = [...costs.values()].reduce((sum, cost) => sum + cost, 0);
    expect(all.total.costUsd).toBeCloseTo(expected, 12);
    expect(all.total.jobsCounted).toBe(costs.size);
    expect(all.total.jobsWithoutResults).toEqual(["unfinished"]);
    expect(all.jobs.map((job: JobCost) => job.jobId).sort()).toEqual(
      [...[...costs.keys()].map((p) => `cost-${p}`), "unfinished"].sort(),
    );

    await client.submitBatch({
      requests: [{ id: "r1", model: "my-private-finetune", prompt: "priced?" }],
      jobId: "no-price",
      provider: "openai",
    });
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.retrieveBatchResults("no-price");
    const [json, text] = await Promise.all([relay(["cost", "--json"], env), relay(["cost"], env)]);
    const withUnknown = JSON.parse(json.stdout);
    expect(withUnknown.total.costUsd).toBeNull();
    expect(withUnknown.total.unknownModels).toEqual(["my-private-finetune"]);
    expect(text.stdout).toMatch(/^total\s+.*unknown$/m);
    expect(text.stdout).toMatch(/^no-price\s+openai\s+.*unknown$/m);
    expect(text.stderr).toContain("no price for my-private-finetune: the total is unknown, not $0");
    expect(text.stderr).toContain("Not counted (results not fetched): unfinished");

    const unknownJob = await relay(["cost", "nope"], env);
    expect(unknownJob.code).toBe(1);
    expect(unknownJob.stderr).toContain("[job_not_found]");
  });
});
