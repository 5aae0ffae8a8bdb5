import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Dashboard, type DashboardOptions, startDashboard } from "../src/dashboard/index.js";
import type { JobFilter, RelayClient } from "../src/index.js";
import { JobIndex } from "../src/jobs/job-index.js";
import { JobStore } from "../src/jobs/store.js";
import { Workspace } from "../src/workspace/workspace.js";
import { buildDashboardWorkspace, dashboardProviders, FINISH_ALL_MS } from "./support/dashboard-workspace.js";
import { type Harness, startHarness, TEST_KEYS } from "./support/harness.js";
import { actionHeaders, call } from "./support/http-call.js";
import { CLI } from "./support/relay-process.js";

/** Waits for a condition that a background task makes true; fails after a while, never asserts a time. */
async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every file of the workspace with its content hash and modification time. */
async function snapshot(directory: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  async function walk(path: string) {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const content = await readFile(full);
        files[full] = `${createHash("sha256").update(content).digest("hex")} ${(await stat(full)).mtimeMs}`;
      }
    }
  }
  await walk(directory);
  return files;
}

describe("the dashboard's server and API", () => {
  let harness: Harness;
  let client: RelayClient;
  let dashboard: Dashboard | undefined;
  let session: { sessionToken: string };

  beforeEach(async () => {
    harness = await startHarness();
    client = await buildDashboardWorkspace(harness);
  });
  afterEach(async () => {
    await dashboard?.close();
    dashboard = undefined;
    await harness.close();
  });

  async function open(options: Partial<DashboardOptions> = {}): Promise<Dashboard> {
    dashboard = await startDashboard({
      directory: harness.directory,
      providers: dashboardProviders(harness),
      env: {},
      pollIntervalMs: 0,
      ...options,
    });
    session = (await call(dashboard.url, "/api/session")).json();
    return dashboard;
  }

  const get = (path: string) => call((dashboard as Dashboard).url, path);
  const post = (path: string, body: unknown = {}, headers: Record<string, string> = {}) =>
    call((dashboard as Dashboard).url, path, {
      method: "POST",
      headers: actionHeaders(session.sessionToken, headers),
      body: JSON.stringify(body),
    });

  it("lists, filters, sorts and pages the jobs on the server, with totals per status and cost; unreadable records as such", async () => {
    await open();
    const all = (await get("/api/jobs")).json();
    expect(all.total).toBe(6);
    expect(all.rows[0]).toMatchObject({
      jobId: "broken",
      corrupt: true,
      error: { code: "corrupt_workspace" },
    });
    expect(all.rows.slice(1).map((row: { jobId: string }) => row.jobId)).toEqual([
      "cancel-me",
      "running",
      "claude-done",
      "crafted",
      "labels",
    ]);
    expect(all.totals.byStatus).toMatchObject({ in_progress: 2, completed: 2, expired: 1, corrupt: 1 });
    expect(all.totals.matching).toMatchObject({ jobs: 5, requests: 6 + 4 + 3 + 6 + 4 });

    const ids = async (query: string) =>
      (await get(`/api/jobs?${query}`)).json().rows.map((row: { jobId: string }) => row.jobId);
    expect(await ids("status=in_progress")).toEqual(["cancel-me", "running"]);
    expect(await ids("status=corrupt")).toEqual(["broken"]);
    expect(await ids("provider=anthropic")).toEqual(["cancel-me", "claude-done"]);
    expect(await ids("q=SUPPORT%20tickets")).toEqual(["labels"]);
    expect(await ids("q=brok")).toEqual(["broken"]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await ids(`since=${today}&until=${today}&sort=id&order=asc`)).toEqual([
      "cancel-me",
      "claude-done",
      "crafted",
      "labels",
      "running",
    ]);
    expect(await ids("until=2020-01-01")).toEqual([]);
    expect(await ids("status=completed,expired&sort=requests&order=desc")).toEqual([
      "labels",
      "crafted",
      "claude-done",
    ]);
    const second = (await get("/api/jobs?sort=id&order=desc&pageSize=2&page=2")).json();
    expect(second).toMatchObject({ page: 2, pages: 3, total: 6 });
    expect(second.rows.map((row: { jobId: string }) => row.jobId)).toEqual(["labels", "crafted"]);
    // The table's filters are the library's (getAllJobs), newest first.
    for (const [query, filter] of [
      ["status=in_progress,expired", { status: ["in_progress", "expired"] }],
      ["provider=openai&q=a", { provider: "openai", search: "a" }],
      [`since=${today}T00:00:00Z`, { since: `${today}T00:00:00Z` }],
      [`until=${today}&q=LABEL`, { until: today, search: "LABEL" }],
    ] as [string, JobFilter][]) {
      const expected = (await client.getAllJobs(filter)).map((record) => record.job_id);
      expect(await ids(query), query).toEqual(expected);
    }
    for (const bad of [
      "status=done",
      "provider=acme",
      "since=yesterday",
      "sort=colour",
      "pageSize=0",
      "page=x",
    ])
      expect((await get(`/api/jobs?${bad}`)).status, bad).toBe(400);

    // What the stored results cost is counted in the background and then appears in the totals.
    const counted = await eventually(async () => {
      const page = (await get("/api/jobs?status=completed,expired")).json();
      return page.totals.matching.costPending === 0 && page;
    }, "the costs to be counted");
    expect(counted.totals.matching.costCounted).toBe(2);
    const labels = counted.rows.find((row: { jobId: string }) => row.jobId === "labels");
    expect(labels.actualCostUsd).toBeCloseTo((await client.jobCost("labels")).costUsd as number, 12);
    expect(counted.totals.matching.actualCostUsd).toBeCloseTo(
      ((await client.jobCost("labels")).costUsd as number) +
        ((await client.jobCost("crafted")).costUsd as number),
      12,
    );
  });

  it("shows a job: shards with provider status, counts, results deadline, cost estimated and actual, the retry chain", async () => {
    await open();
    const running = (await get("/api/jobs/running")).json();
    expect(running.shards).toHaveLength(3);
    expect(running.shards.every((shard: { total: number; status: string }) => shard.total === 2)).toBe(true);
    expect(running.job).toMatchObject({ status: "in_progress", nRequests: 6, resultsStored: false });
    expect(running.cost.estimate.cost_usd).toBeGreaterThan(0);
    expect(running.actions).toEqual({ refresh: true, cancel: true, retry: false });

    const claude = (await get("/api/jobs/claude-done")).json();
    expect(claude.job.status).toBe("completed");
    expect(Date.parse(claude.job.resultsExpireAt)).toBeGreaterThan(Date.now());
    expect(claude.shards[0].resultsExpireAt).toBe(claude.job.resultsExpireAt);

    const labels = (await get("/api/jobs/labels")).json();
    expect(labels.job).toMatchObject({ status: "expired", resultsStored: true, failed: 2 });
    expect(labels.cost.actual.costUsd).toBeCloseTo((await client.jobCost("labels")).costUsd as number, 12);
    expect(labels.actions.retry).toBe(true);
    await client.retryFailed("labels");
    const parent = (await get("/api/jobs/labels")).json();
    expect(parent.chain.followUps).toEqual([{ jobId: "labels-retry-1", status: "pending", nRequests: 2 }]);
    const child = (await get("/api/jobs/labels-retry-1")).json();
    expect(child.chain.parent).toEqual({ jobId: "labels", status: "expired", nRequests: 6 });

    expect((await get("/api/jobs/broken")).json()).toMatchObject({ corrupt: true, jobId: "broken" });
    expect((await get("/api/jobs/nope")).status).toBe(404);
    expect((await get("/api/jobs/..%2Fetc")).status).toBe(400);
  });

  it("pages results from the workspace: problems first, by status, by text, one raw record, and downloads them as JSONL and CSV", async () => {
    await open();
    const results = (query: string) =>
      get(`/api/jobs/labels/results?${query}`).then((answer) => answer.json());
    const ordered = await results("limit=4");
    expect(ordered).toMatchObject({
      stored: true,
      total: 6,
      counts: { succeeded: 4, failed: 1, expired: 1 },
    });
    expect(ordered.rows.map((row: { id: string }) => row.id)).toEqual([
      "labels-1",
      "labels-2",
      "labels-3",
      "labels-4",
    ]);
    const problems = await results("problems=1&limit=3");
    expect(problems.rows.map((row: { id: string; status: string }) => `${row.id}:${row.status}`)).toEqual([
      "labels-2:failed",
      "labels-5:expired",
      "labels-1:succeeded",
    ]);
    expect((await results("problems=1&offset=5&limit=3")).rows.map((row: { id: string }) => row.id)).toEqual([
      "labels-6",
    ]);
    expect((await results("status=expired")).rows.map((row: { position: number }) => row.position)).toEqual([
      4,
    ]);
    const found = await results("q=item%203%20OF");
    expect(found.total).toBe(1);
    expect(found.rows[0].id).toBe("labels-3");
    const raw = (await get("/api/jobs/labels/results/2")).json();
    expect(raw.result).toMatchObject({ id: "labels-3", status: "succeeded" });
    expect(raw.result.raw.custom_id).toBe("labels-3");
    expect((await get("/api/jobs/labels/results/99")).status).toBe(404);
    // Not fetched yet: nothing is fetched by looking.
    expect((await get("/api/jobs/claude-done/results")).json()).toMatchObject({ stored: false });
    expect(await client.hasResults("claude-done")).toBe(false);

    const jsonl = await get("/api/jobs/labels/download?format=jsonl");
    expect(jsonl.headers["content-disposition"]).toBe('attachment; filename="labels-results.jsonl"');
    const lines = jsonl.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual([
      "labels-1",
      "labels-2",
      "labels-3",
      "labels-4",
      "labels-5",
      "labels-6",
    ]);
    expect(lines[0].raw.custom_id).toBe("labels-1");
    const csv = await get("/api/jobs/crafted/download?format=csv");
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const [header, ...rows] = csv.text.trim().split("\n");
    expect(header).toBe(
      "id,status,text,finish_reason,input_tokens,output_tokens,cached_input_tokens,model,error_code,error_message,attempt_job_id",
    );
    expect(rows).toHaveLength(4);
    // A spreadsheet would run "=1+2" as a formula: it is escaped.
    expect(rows.some((row) => row.startsWith("'=1+2,succeeded,"))).toBe(true);
    expect((await get("/api/jobs/claude-done/download?format=csv")).status).toBe(409);
    expect((await get("/api/jobs/labels/download?format=xml")).status).toBe(400);

    // Merged along the retry chain once the follow-up has its results.
    harness.emulator.setFate("labels-2", "succeed");
    harness.emulator.setFate("labels-5", "succeed");
    await client.retryFailed("labels");
    expect((await results("merged=1")).stored).toBe(false);
    harness.clock.advance(FINISH_ALL_MS);
    await client.retrieveBatchResults("labels-retry-1");
    const merged = await results("merged=1&status=succeeded");
    expect(merged.total).toBe(6);
    expect(merged.rows[1]).toMatchObject({ id: "labels-2", attempt: { jobId: "labels-retry-1", number: 1 } });
  });

  it("changes nothing on GET: every route, whatever the query says", async () => {
    await open();
    const before = await snapshot(harness.directory);
    const calls = harness.emulator.requestLog.length;
    const junk = "action=cancel&confirm=running&cancel=1&retry=1&refresh=1&method=POST&_method=POST";
    for (const path of [
      "/",
      "/assets/app.js",
      "/api/session",
      "/api/jobs",
      "/api/jobs/running",
      "/api/jobs/cancel-me",
      "/api/jobs/claude-done",
      "/api/jobs/labels/results",
      "/api/jobs/labels/results/1",
      "/api/jobs/claude-done/results",
      "/api/jobs/claude-done/download?format=jsonl",
      "/api/jobs/labels/download?format=csv",
      "/api/jobs/running/cancel",
      "/api/jobs/running/retry",
      "/api/jobs/running/refresh",
    ]) {
      const answer = await get(`${path}${path.includes("?") ? "&" : "?"}${junk}`);
      expect(answer.status, path).not.toBe(500);
      if (path.endsWith("/cancel") || path.endsWith("/retry") || path.endsWith("/refresh"))
        expect(answer.status, path).toBe(405);
    }
    expect((await call((dashboard as Dashboard).url, "/api/events", { maxBytes: 10 })).status).toBe(200);
    for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"])
      expect((await call((dashboard as Dashboard).url, "/api/jobs/running/cancel", { method })).status).toBe(
        405,
      );
    expect(await snapshot(harness.directory)).toEqual(before);
    expect(harness.emulator.requestLog.length).toBe(calls);
  });

  it("changes state only by a same-origin JSON POST with the session token; cancel needs its confirmation", async () => {
    const { url } = await open();
    const cancels = () =>
      harness.emulator.requestLog.filter((entry) => entry.path.endsWith("/cancel")).length;
    const refused = [
      await call(url, "/api/jobs/cancel-me/cancel", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"confirm":"cancel-me"}',
      }),
      await call(url, "/api/jobs/cancel-me/cancel", {
        method: "POST",
        headers: actionHeaders("wrong-token"),
        body: '{"confirm":"cancel-me"}',
      }),
      // What a cross-site form can send: no JSON, no token header.
      await call(url, "/api/jobs/cancel-me/cancel", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-relay-token": session.sessionToken,
        },
        body: "confirm=cancel-me",
      }),
      await post("/api/jobs/cancel-me/cancel", { confirm: "cancel-me" }, { origin: "http://evil.example" }),
      await post("/api/jobs/cancel-me/cancel", { confirm: "cancel-me" }, { "sec-fetch-site": "cross-site" }),
      await post("/api/jobs/cancel-me/cancel", { confirm: "cancel-me" }, { "sec-fetch-site": "same-site" }),
    ];
    expect(refused.map((answer) => answer.status)).toEqual([403, 403, 415, 403, 403, 403]);
    expect(refused[0]?.text).toMatch(/session token/);
    expect(cancels()).toBe(0);
    expect((await post("/api/jobs/cancel-me/cancel", {})).json().error.code).toBe("confirmation_required");
    expect((await post("/api/jobs/cancel-me/cancel", { confirm: "running" })).status).toBe(400);
    expect(cancels()).toBe(0);

    const accepted = await post(
      "/api/jobs/cancel-me/cancel",
      { confirm: "cancel-me" },
      { origin: url.slice(0, -1) },
    );
    expect(accepted.json()).toEqual({ accepted: true });
    expect(cancels()).toBe(1);
    expect((await get("/api/jobs/cancel-me")).json().job.status).toMatch(/^cancell/);

    const refreshed = (await post("/api/jobs/running/refresh")).json();
    expect(refreshed.job).toMatchObject({ jobId: "running", status: "in_progress" });
    harness.clock.advance(FINISH_ALL_MS);
    const finished = (await post("/api/jobs/running/refresh")).json();
    expect(finished.job).toMatchObject({ status: "completed", fetchedResults: true });
    expect(await client.hasResults("running")).toBe(true);

    const retried = (await post("/api/jobs/labels/retry", { statuses: ["failed"] })).json();
    expect(retried.job).toMatchObject({ jobId: "labels-retry-1", nRequests: 1 });
    expect((await get("/api/jobs/labels-retry-1")).json().chain.parent.jobId).toBe("labels");
    expect((await post("/api/jobs/running/retry")).json().error.code).toBe("nothing_to_retry");
    expect((await post("/api/jobs/labels/retry", { statuses: ["succeeded"] })).status).toBe(400);
    expect((await post("/api/jobs/nope/refresh")).status).toBe(404);
  });

  it("answers only to its own host names (DNS rebinding), and only loopback unless another host is allowed with a token", async () => {
    const { url, token } = await open();
    expect(token).toBeNull();
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`])
      expect((await call(url, "/api/jobs", { headers: { host } })).status, host).toBe(200);
    for (const host of [
      `evil.example:${port}`,
      "127.0.0.1",
      `127.0.0.1:1`,
      `localhost.evil.example:${port}`,
    ]) {
      const answer = await call(url, "/api/session", { headers: { host } });
      expect(answer.status, host).toBe(403);
      expect(answer.text).not.toContain(session.sessionToken);
    }
    await dashboard?.close();

    await expect(startDashboard({ directory: harness.directory, host: "0.0.0.0" })).rejects.toMatchObject({
      code: "remote_not_allowed",
    });
    await expect(startDashboard({ directory: harness.directory, token: "short" })).rejects.toMatchObject({
      code: "invalid_input",
    });
    dashboard = await startDashboard({
      directory: harness.directory,
      host: "0.0.0.0",
      allowRemote: true,
      allowedHosts: ["relay.internal"],
      pollIntervalMs: 0,
    });
    const remote = dashboard;
    expect(remote.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(remote.url).toContain(`?token=${remote.token}`);
    const remotePort = new URL(remote.url).port;
    const local = `http://127.0.0.1:${remotePort}`;
    expect((await call(local, "/api/jobs")).status).toBe(401);
    expect((await call(local, "/")).status).toBe(401);
    expect((await call(local, "/api/jobs", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await call(local, "/?token=wrong")).status).toBe(401);
    const bearer = { authorization: `Bearer ${remote.token}` };
    expect((await call(local, "/api/jobs", { headers: bearer })).status).toBe(200);
    expect(
      (await call(local, "/api/jobs", { headers: { ...bearer, host: `relay.internal:${remotePort}` } }))
        .status,
    ).toBe(200);
    expect(
      (await call(local, "/api/jobs", { headers: { ...bearer, host: `evil.example:${remotePort}` } })).status,
    ).toBe(403);
    // The token in the address once: it becomes a cookie and leaves the address bar.
    const landing = await call(local, `/?token=${remote.token}`);
    expect(landing.status).toBe(303);
    expect(landing.headers.location).toBe("/");
    const cookie = String(landing.headers["set-cookie"]).split(";")[0] as string;
    expect(String(landing.headers["set-cookie"])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await call(local, "/api/jobs", { headers: { cookie } })).status).toBe(200);
    const remoteSession = (await call(local, "/api/session", { headers: { cookie } })).json();
    // The access token lets a request in; changing anything still needs the page's session token.
    const noSession = await call(local, "/api/jobs/running/refresh", {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(noSession.status).toBe(403);
    expect(remoteSession.sessionToken).not.toBe(remote.token);
  });

  it("in read-only mode refuses every action and never asks the provider", async () => {
    await open({ readOnly: true, pollIntervalMs: 20 });
    expect(session).toMatchObject({ readOnly: true, pollIntervalMs: 0 });
    const calls = harness.emulator.requestLog.length;
    for (const action of ["refresh", "retry"]) {
      const answer = await post(`/api/jobs/running/${action}`);
      expect(answer.status).toBe(403);
      expect(answer.text).toMatch(/read-only/);
    }
    expect((await post("/api/jobs/running/cancel", { confirm: "running" })).status).toBe(403);
    const job = (await get("/api/jobs/running")).json();
    expect(job.actions).toEqual({ refresh: false, cancel: false, retry: false });
    harness.clock.advance(FINISH_ALL_MS);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(harness.emulator.requestLog.length).toBe(calls);
  });

  it("watches running jobs at the provider, and fetches their results once they have finished", async () => {
    await open({ pollIntervalMs: 20 });
    const before = (await get("/api/jobs/running")).json();
    expect(before.job.completed).toBe(0);
    harness.clock.advance(1_000);
    const partway = await eventually(async () => {
      const job = (await get("/api/jobs/running")).json();
      return job.job.completed > 0 && job;
    }, "the running job to advance");
    expect(partway.job.status).toBe("in_progress");
    expect(partway.poll).toMatchObject({ error: null });
    harness.clock.advance(FINISH_ALL_MS);
    const done = await eventually(async () => {
      const job = (await get("/api/jobs/running")).json();
      return job.job.resultsStored && job;
    }, "the results to be fetched");
    expect(done.job).toMatchObject({ status: "completed", completed: 6 });
    expect(done.history.length).toBeGreaterThanOrEqual(2);
    expect(await client.hasResults("running")).toBe(true);
  });

  it("never shows an API key, not even when the provider refuses it", async () => {
    await open({ pollIntervalMs: 20 });
    harness.emulator.faults.add({ path: "/openai/", action: { kind: "status", status: 401 }, times: 100 });
    const answers = [
      await get("/api/session"),
      await get("/api/jobs"),
      await get("/api/jobs/running"),
      await post("/api/jobs/running/refresh"),
      await post("/api/jobs/labels/retry"),
      await get("/api/jobs/labels/download?format=jsonl"),
    ];
    harness.clock.advance(1_000);
    answers.push(
      await eventually(async () => {
        const answer = await get("/api/jobs/running");
        return answer.json().poll?.error && answer;
      }, "the poller to record the refusal"),
    );
    expect(answers[3]?.status).toBe(502);
    for (const answer of answers)
      for (const key of Object.values(TEST_KEYS)) expect(answer.text).not.toContain(key);
  });
});

describe("the job index", () => {
  it.each([
    ["watching the directory", true],
    ["comparing stamps", false],
  ])("reads again only what changed, %s", async (_name, watch) => {
    const harness = await startHarness();
    try {
      const client = harness.client();
      await client.submitBatch({
        requests: [{ id: "a", model: "gpt-4o-mini", prompt: "x" }],
        jobId: "one",
        provider: "openai",
      });
      const index = new JobIndex(new JobStore(new Workspace(harness.directory), undefined), {
        watch,
        rescanIntervalMs: 60_000,
      });
      await index.refresh();
      expect(index.list().map((entry) => entry.jobId)).toEqual(["one"]);
      const first = index.get("one");
      const version = index.version;
      await index.refresh();
      expect(index.get("one")).toBe(first);
      expect(index.version).toBe(version);

      await client.submitBatch({
        requests: [{ id: "a", model: "gpt-4o-mini", prompt: "x" }],
        jobId: "two",
        provider: "openai",
      });
      harness.clock.advance(FINISH_ALL_MS);
      await client.retrieveBatchResults("one");
      await writeFile(join(harness.directory, "three.json"), "not json");
      await eventually(async () => {
        await index.refresh();
        return index.list().length === 3 && index.get("one")?.stamps.results !== null;
      }, "the index to see the new files");
      expect(index.get("one")?.record?.status).toBe("completed");
      expect(index.get("one")).not.toBe(first);
      expect(index.get("three")?.error?.code).toBe("corrupt_workspace");
      expect(index.changedSince(version).sort()).toEqual(["one", "three", "two"]);
      const unchanged = index.get("two");

      await rm(join(harness.directory, "three.json"));
      await eventually(async () => {
        await index.refresh();
        return !index.get("three");
      }, "the index to see the removal");
      expect(index.get("two")).toBe(unchanged);
      index.close();
    } finally {
      await harness.close();
    }
  });
});

describe("the dashboard command", () => {
  const run = (args: string[]) =>
    spawn(process.execPath, [CLI, "dashboard", ...args], {
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });

  it("serves the workspace until stopped, and refuses another host without --allow-remote", async () => {
    const harness = await startHarness();
    try {
      const child = run(["--port", "0", "-d", harness.directory, "--poll-interval", "0"]);
      const output = await new Promise<string>((resolve, reject) => {
        let text = "";
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (/http:\/\/127\.0\.0\.1:\d+\//.test(text)) resolve(text);
        });
        child.once("exit", (code) => reject(new Error(`exited with ${code}: ${text}`)));
      });
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1] as string;
      expect((await call(url, "/api/jobs")).json().total).toBe(0);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);

      const refused = run(["--host", "0.0.0.0", "-d", harness.directory]);
      let errors = "";
      refused.stderr.on("data", (chunk: Buffer) => {
        errors += chunk.toString();
      });
      expect(await new Promise((resolve) => refused.once("exit", resolve))).toBe(64);
      expect(errors).toMatch(/--allow-remote/);
    } finally {
      await harness.close();
    }
  });
});
