/// <reference lib="dom" />
/**
 * The dashboard in Debian's Chromium, driven by playwright-core, over a workspace of jobs at the emulator. One
 * dashboard and one browser for the whole file; the tests run in order (the clock moves the jobs along).
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, startDashboard } from "../src/dashboard/index.js";
import type { RelayClient } from "../src/index.js";
import { type Browser, CHROMIUM, hasChromium, launchBrowser } from "./support/browser.js";
import {
  buildDashboardWorkspace,
  dashboardProviders,
  FINISH_ALL_MS,
  INJECTION,
} from "./support/dashboard-workspace.js";
import { type Harness, startHarness, TEST_KEYS } from "./support/harness.js";

it.skipIf(hasChromium())(
  `skips the browser tests: ${CHROMIUM} is absent (apt-get install -y chromium)`,
  () => {},
);

describe.skipIf(!hasChromium())("the dashboard in a real browser", () => {
  let harness: Harness;
  let client: RelayClient;
  let dashboard: Dashboard;
  let browser: Browser;
  /** Every response body any page received, to look for API keys in. */
  const bodies: Promise<string>[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    harness = await startHarness();
    client = await buildDashboardWorkspace(harness);
    dashboard = await startDashboard({
      directory: harness.directory,
      providers: dashboardProviders(harness),
      env: {},
      pollIntervalMs: 50,
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await harness?.close();
  });

  /** A page that records script errors, policy violations and every response. */
  async function newPage(): Promise<Page> {
    const page = await browser.context.newPage();
    // Only the dashboard's own pages: an attacker's page is expected to log its refusals.
    const ours = () => page.url().startsWith(new URL(dashboard.url).origin);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (ours() && message.type() === "error" && !/status of 4\d\d/.test(message.text()))
        problems.push(message.text());
    });
    page.on("response", (response) => {
      const headers = response.headers();
      // Event streams never end; downloads are read from the saved file (reading them here cancels them).
      if (!ours() || (headers["content-type"] ?? "").startsWith("text/event-stream")) return;
      if ((headers["content-disposition"] ?? "").startsWith("attachment")) return;
      bodies.push(response.text().catch(() => ""));
    });
    // Runs before the page's own scripts: anything the page is made to run is seen here.
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __violations: string[] }).__violations = seen;
      document.addEventListener("securitypolicyviolation", (event) =>
        seen.push(`${event.violatedDirective}: ${event.blockedURI}`),
      );
    });
    return page;
  }

  async function openDashboard(page: Page, hash = "#/"): Promise<void> {
    await page.goto(`${dashboard.url}${hash}`);
    await page.waitForSelector("body[data-ready]");
  }

  const jobRows = (page: Page) =>
    page
      .locator("table.jobs tbody tr")
      .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.jobId));

  it("loads the jobs table with totals per status, under a policy that forbids inline script", async () => {
    const page = await newPage();
    const response = await page.goto(dashboard.url);
    const policy = response?.headers()["content-security-policy"] ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    await page.waitForSelector("body[data-ready]");
    await page.waitForSelector("table.jobs tbody tr[data-job-id]");
    expect(await jobRows(page)).toEqual([
      "broken",
      "cancel-me",
      "running",
      "claude-done",
      "crafted",
      "labels",
    ]);
    await expect
      .poll(() => page.locator(".chip").allTextContents())
      .toEqual(["All 6", "in progress 2", "completed 2", "expired 1", "corrupt 1"]);
    expect(await page.locator(".banner").textContent()).toContain("1 job record cannot be read");
    expect(await page.locator("tr.corrupt").textContent()).toContain("broken.json is corrupt");
    expect(await page.locator("#live").textContent()).toBe("live");
    await page.close();
  });

  it("filters by status, provider and text, and sorts, on the server", async () => {
    const page = await newPage();
    await openDashboard(page);
    await page.selectOption("select[name=status]", "in_progress");
    await expect.poll(() => jobRows(page)).toEqual(["cancel-me", "running"]);
    expect(page.url()).toContain("status=in_progress");
    await page.selectOption("select[name=provider]", "anthropic");
    await expect.poll(() => jobRows(page)).toEqual(["cancel-me"]);
    await page.click("text=Clear");
    await page.fill("input[name=q]", "support tickets");
    await expect.poll(() => jobRows(page)).toEqual(["labels"]);
    await page.click("text=Clear");
    await page.click("button[data-sort=id]");
    await expect
      .poll(() => jobRows(page))
      .toEqual(["broken", "cancel-me", "claude-done", "crafted", "labels", "running"]);
    await page.click("button[data-sort=id]");
    await expect
      .poll(() => jobRows(page))
      .toEqual(["broken", "running", "labels", "crafted", "claude-done", "cancel-me"]);
    // The address keeps the view: a reload shows the same.
    await page.reload();
    await page.waitForSelector("body[data-ready]");
    await expect
      .poll(() => jobRows(page))
      .toEqual(["broken", "running", "labels", "crafted", "claude-done", "cancel-me"]);
    await page.close();
  });

  it("opens a job: its batches, counts, results deadline and cost", async () => {
    const page = await newPage();
    await openDashboard(page);
    await page.click("a.job-link:text-is('claude-done')");
    await page.waitForSelector(".job-view h2");
    expect(await page.locator("dd[data-fact=results]").textContent()).toMatch(
      /at the provider until .*in 29 days/,
    );
    expect(await page.locator("dd[data-fact=requests]").textContent()).toBe("3");
    expect(await page.locator(".shards tbody tr").count()).toBe(1);
    expect(await page.locator("dd[data-fact=estimate]").textContent()).toMatch(/^~\$/);
    await page.click("text=← All jobs");
    await page.waitForSelector("table.jobs");
    await page.close();
  });

  it("cancels a job only after confirmation", async () => {
    const page = await newPage();
    await openDashboard(page, "#/jobs/cancel-me");
    const cancels = () =>
      harness.emulator.requestLog.filter((entry) => entry.path.endsWith("/cancel")).length;
    await page.click("button:text-is('Cancel…')");
    await page.waitForSelector("dialog[open]");
    expect(await page.locator("#confirm-message").textContent()).toContain("Cancel job cancel-me?");
    await page.click("#confirm-no");
    await page.waitForSelector("dialog:not([open])", { state: "attached" });
    expect(cancels()).toBe(0);
    await page.click("button:text-is('Cancel…')");
    await page.click("#confirm-yes");
    await page.waitForSelector(".job-view h2 .status-cancelling, .job-view h2 .status-cancelled");
    expect(cancels()).toBe(1);
    await page.close();
  });

  it("follows a running job live, batch by batch, without reloading", async () => {
    const page = await newPage();
    await openDashboard(page, "#/jobs/running");
    await page.waitForSelector(".shards tbody tr");
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const done = () => page.locator("dd[data-fact=completed]").textContent();
    expect(await done()).toBe("0");
    // Half of each batch's requests run in the next second of the provider's clock.
    harness.clock.advance(1_000);
    await expect.poll(done, { timeout: 10_000 }).toBe("3");
    expect(await page.locator(".shard-counts").allTextContents()).toEqual([
      "1 done, 0 failed, 1 remaining",
      "1 done, 0 failed, 1 remaining",
      "1 done, 0 failed, 1 remaining",
    ]);
    harness.clock.advance(1_100);
    await page.waitForSelector(".job-view h2 .finalizing", { timeout: 10_000 });
    expect(await done()).toBe("6");
    harness.clock.advance(FINISH_ALL_MS);
    await page.waitForSelector(".job-view h2 .status-completed", { timeout: 10_000 });
    await page.waitForSelector(".results tbody tr[data-position='5']", { timeout: 10_000 });
    expect(await page.locator(".charts polyline").count()).toBe(2);
    expect(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    await page.close();
  });

  it("refreshes a job at the provider, fetching its results once it has finished", async () => {
    const page = await newPage();
    await openDashboard(page, "#/jobs/claude-done");
    const calls = harness.emulator.requestLog.length;
    expect(await page.locator(".results-summary").textContent()).toMatch(/not in the workspace/);
    await page.click("button:text-is('Refresh')");
    await page.waitForSelector(".notice:has-text('results fetched')");
    await page.waitForSelector(".results tbody tr[data-position='2']");
    expect(harness.emulator.requestLog.length).toBeGreaterThan(calls);
    expect(await page.locator("dd[data-fact=results]").textContent()).toBe("in the workspace");
    await page.close();
  });

  it("retries the failed requests in a linked follow-up job", async () => {
    const page = await newPage();
    await openDashboard(page, "#/jobs/labels");
    await page.click("text=failed, expired and cancelled first");
    await expect
      .poll(() =>
        page
          .locator(".results tbody tr")
          .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.status)),
      )
      .toEqual(["failed", "expired", "succeeded", "succeeded", "succeeded", "succeeded"]);
    await page.click("button:text-is('Retry failed')");
    await page.waitForURL(/#\/jobs\/labels-retry-1$/);
    await page.waitForSelector(".chain a:text-is('labels')");
    expect(await page.locator("dd[data-fact=requests]").textContent()).toBe("2");
    await page.click(".chain a:text-is('labels')");
    await page.waitForSelector(".follow-ups a:text-is('labels-retry-1')");
    expect((await client.getJob("labels"))?.retry_job_ids).toEqual(["labels-retry-1"]);
    await page.close();
  });

  it("downloads a job's results as JSONL and CSV", async () => {
    const page = await newPage();
    await openDashboard(page, "#/jobs/labels");
    const save = async (label: string) => {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click(`a:text-is('${label}')`),
      ]);
      const text = await readFile(await download.path(), "utf8");
      bodies.push(Promise.resolve(text));
      return { name: download.suggestedFilename(), text };
    };
    const jsonl = await save("Download JSONL");
    expect(jsonl.name).toBe("labels-results.jsonl");
    const lines = jsonl.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => `${line.id}:${line.status}`)).toEqual([
      "labels-1:succeeded",
      "labels-2:failed",
      "labels-3:succeeded",
      "labels-4:succeeded",
      "labels-5:expired",
      "labels-6:succeeded",
    ]);
    const csv = await save("Download CSV");
    expect(csv.name).toBe("labels-results.csv");
    const [header, ...rows] = csv.text.trim().split("\n");
    expect(header?.startsWith("id,status,text,")).toBe(true);
    expect(rows.map((row) => row.split(",").slice(0, 2).join(","))).toEqual(
      lines.map((line) => `${line.id},${line.status}`),
    );
    await page.close();
  });

  it("shows markup and script from a job's description, request IDs and model output as text; none of it runs", async () => {
    const page = await newPage();
    await openDashboard(page);
    await page.waitForSelector("tr[data-job-id=crafted]");
    expect(await page.locator("tr[data-job-id=crafted] td.description").textContent()).toBe(
      INJECTION.description,
    );
    await page.click("a.job-link:text-is('crafted')");
    await page.waitForSelector(".results tbody tr[data-position='3']");
    expect(await page.locator(".description-full").textContent()).toBe(INJECTION.description);
    const ids = await page.locator(".results td.request-id").allTextContents();
    expect(ids).toEqual([...INJECTION.requestIds, "plain"]);
    const outputs = await page.locator(".results td.output").allTextContents();
    expect(outputs[0]).toContain(INJECTION.prompt.slice(0, 60));
    for (let position = 0; position < 3; position += 1) {
      await page.click(`button[data-position='${position}']`);
      await page.waitForSelector(`.raw h4:has-text(${JSON.stringify(INJECTION.requestIds[position])})`);
      expect(await page.locator(".raw pre").textContent()).toContain(
        JSON.stringify(INJECTION.requestIds[position]),
      );
    }
    await page.fill("input[name=result-q]", "<img");
    await expect.poll(() => page.locator(".results tbody tr[data-position]").count()).toBe(3);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual(
      [],
    );
    // Nothing from the data became an element: the page has no images, one script (its own) and only its charts.
    expect(await page.locator("img").count()).toBe(0);
    expect(
      await page
        .locator("script")
        .evaluateAll((scripts) => scripts.map((script) => script.getAttribute("src"))),
    ).toEqual(["/assets/app.js"]);
    expect(await page.locator("svg:not(.chart)").count()).toBe(0);
    await page.close();
  });

  it("refuses actions from another site: a cross-site form and fetch change nothing", async () => {
    const target = new URL(dashboard.url);
    const attack = `<!doctype html><body>
      <iframe name="sink"></iframe>
      <form id="f" method="POST" action="${target.origin}/api/jobs/labels/retry" target="sink" enctype="text/plain">
        <input name='{"statuses":["failed"],"x":"' value='"}'>
      </form>
      <script>
        const base = ${JSON.stringify(target.origin)};
        (async () => {
          const results = [];
          for (const action of ["retry", "refresh"]) {
            try {
              await fetch(base + "/api/jobs/labels-retry-1/" + action, { method: "POST", mode: "no-cors", body: "{}", headers: { "content-type": "text/plain" } });
              results.push(action + ": sent");
            } catch (error) { results.push(action + ": " + error); }
          }
          try {
            const session = await fetch(base + "/api/session");
            results.push("session read: " + (await session.text()));
          } catch (error) { results.push("session: blocked"); }
          document.getElementById("f").submit();
          setTimeout(() => { window.__done = results; }, 500);
        })();
      </script></body>`;
    const attacker: Server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(attack);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    try {
      const creates = () => harness.emulator.requestLog.filter((entry) => entry.method === "POST").length;
      const before = {
        posts: creates(),
        jobs: await client.listJobs(),
        retry: await client.getJob("labels-retry-1"),
      };
      const page = await newPage();
      // localhost and 127.0.0.1 are different sites to the browser.
      await page.goto(`http://localhost:${(attacker.address() as AddressInfo).port}/`);
      const results = await page
        .waitForFunction(() => (window as unknown as { __done?: string[] }).__done, undefined, {
          polling: 100,
        })
        .then((handle) => handle.jsonValue());
      expect(results).toContain("session: blocked");
      expect(creates()).toBe(before.posts);
      expect(await client.listJobs()).toEqual(before.jobs);
      expect((await client.getJob("labels"))?.retry_job_ids).toEqual(["labels-retry-1"]);
      expect((await client.getJob("labels-retry-1"))?.shards.map((shard) => shard.provider_batch_id)).toEqual(
        before.retry?.shards.map((shard) => shard.provider_batch_id),
      );
      await page.close();
    } finally {
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });

  it("in read-only mode shows no actions and refuses them", async () => {
    const readOnly = await startDashboard({ directory: harness.directory, env: {}, readOnly: true });
    try {
      const page = await newPage();
      await page.goto(`${readOnly.url}#/jobs/labels`);
      await page.waitForSelector("body[data-ready]");
      await page.waitForSelector(".job-view .facts dd");
      expect(await page.locator("#read-only").isVisible()).toBe(true);
      expect(await page.locator(".actions button").count()).toBe(0);
      expect(await page.locator(".actions a").allTextContents()).toEqual(["Download JSONL", "Download CSV"]);
      const status = await page.evaluate(async () => {
        const session = await (await fetch("/api/session")).json();
        const answer = await fetch("/api/jobs/labels/retry", {
          method: "POST",
          headers: { "content-type": "application/json", "x-relay-token": session.sessionToken },
          body: "{}",
        });
        return answer.status;
      });
      expect(status).toBe(403);
      await page.close();
    } finally {
      await readOnly.close();
    }
  });

  it("never sent an API key to any page, and no page had a script error", async () => {
    const texts = await Promise.all(bodies);
    expect(texts.length).toBeGreaterThan(50);
    for (const text of texts) for (const key of Object.values(TEST_KEYS)) expect(text).not.toContain(key);
    expect(problems).toEqual([]);
  });
});
