/// <reference lib="dom" />
/**
 * Makes the README's pictures of the dashboard, docs/dashboard-jobs.png and docs/dashboard-job.png, over a workspace
 * of jobs at the emulator. Not part of the suite: run it with
 *
 *   RELAY_SCREENSHOTS=1 npx vitest run test/dashboard-screenshots.test.ts
 */
import { join } from "node:path";
import { expect, it } from "vitest";
import { startDashboard } from "../src/dashboard/index.js";
import type { BatchRequest } from "../src/types.js";
import { hasChromium, launchBrowser } from "./support/browser.js";
import { dashboardProviders } from "./support/dashboard-workspace.js";
import { startHarness } from "./support/harness.js";

const DOCS = join(import.meta.dirname, "..", "docs");
const wanted = process.env.RELAY_SCREENSHOTS === "1";

function requests(prefix: string, count: number, model: string, prompt: string): BatchRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${String(index + 1).padStart(4, "0")}`,
    model,
    prompt: `${prompt} #${index + 1}`,
    maxTokens: 200,
  }));
}

it.skipIf(!wanted || !hasChromium())(
  "takes the README's screenshots of the jobs view and of a job",
  async () => {
    const harness = await startHarness();
    const providers = dashboardProviders(harness);
    providers.openai = { ...providers.openai, maxRequestsPerBatch: 400 };
    const client = harness.client({ providers });
    const dashboard = await startDashboard({
      directory: harness.directory,
      providers,
      env: {},
      pollIntervalMs: 40,
    });
    const browser = await launchBrowser({ width: 1280, height: 860 });
    try {
      for (const id of ["tickets-0007", "tickets-0091", "tickets-0233"]) harness.emulator.setFate(id, "fail");
      await client.submitBatch({
        requests: requests("tickets", 300, "gpt-4o-mini", "Label the sentiment of support ticket"),
        jobId: "support-tickets-nov",
        provider: "openai",
        description: "Sentiment labels for November's support tickets",
      });
      await client.submitBatch({
        requests: requests("summary", 120, "claude-sonnet-4-5", "Summarise the call transcript"),
        jobId: "call-summaries",
        provider: "anthropic",
        description: "Call transcript summaries for the QA team",
      });
      await client.submitBatch({
        requests: requests("eval", 80, "gpt-4.1-mini", "Grade the answer to question"),
        jobId: "eval-nightly-1130",
        provider: "openai",
        description: "Nightly evaluation run",
      });
      harness.clock.advance(60_000);
      await client.retrieveBatchResults("support-tickets-nov");
      await client.retrieveBatchResults("call-summaries");
      await client.monitorBatch("eval-nightly-1130");
      for (const id of ["tickets-0007", "tickets-0091", "tickets-0233"])
        harness.emulator.setFate(id, "succeed");
      await client.retryFailed("support-tickets-nov");
      await client.submitBatch({
        requests: requests("abandoned", 40, "claude-haiku-4-5", "Translate the product page"),
        jobId: "product-pages-fr",
        provider: "anthropic",
        description: "French product pages (stopped: wrong glossary)",
      });
      await client.cancelBatch("product-pages-fr");
      harness.clock.advance(60_000);
      await client.retrieveBatchResults("support-tickets-nov-retry-1");
      await client.monitorBatch("product-pages-fr");
      await client.submitBatch({
        requests: requests("translate", 1_000, "gpt-4o-mini", "Translate the help-centre article"),
        jobId: "help-centre-de",
        provider: "openai",
        description: "German help-centre articles",
      });
      await client.submitBatch({
        requests: requests("extract", 250, "claude-sonnet-4-5", "Extract the invoice fields of"),
        jobId: "invoice-fields",
        provider: "anthropic",
        description: "Invoice field extraction, December batch",
      });

      const page = await browser.context.newPage();
      await page.goto(`${dashboard.url}#/jobs/help-centre-de`);
      await page.waitForSelector(".shards tbody tr");
      // The dashboard watches the job run: progress over time fills in as the provider's clock moves.
      for (let step = 0; step < 7; step += 1) {
        const done = Number(await page.locator("dd[data-fact=completed]").textContent());
        harness.clock.advance(step === 0 ? 600 : 220);
        await page.waitForFunction(
          (before) =>
            Number(document.querySelector("dd[data-fact=completed]")?.textContent?.replace(/\D/g, "")) >
            before,
          done,
          { polling: 50 },
        );
      }
      await page.waitForSelector(".charts polyline");
      await page.screenshot({ path: join(DOCS, "dashboard-job.png"), fullPage: true });

      await page.goto(dashboard.url);
      await page.waitForSelector("table.jobs tbody tr[data-job-id]");
      await page.waitForFunction(
        () => !document.querySelector("table.jobs")?.textContent?.includes("counting"),
      );
      await page.screenshot({ path: join(DOCS, "dashboard-jobs.png"), fullPage: true });
      expect(await page.locator("table.jobs tbody tr[data-job-id]").count()).toBe(7);
    } finally {
      await browser.close();
      await dashboard.close();
      await harness.close();
    }
  },
  120_000,
);
