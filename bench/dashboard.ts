/**
 * `npm run bench:dashboard`: the dashboard over a workspace of many jobs (10,000 by default): how long its API takes
 * to answer (the first, cold read of every record; then warm pages, filters, sorts; a job; a page of results; the
 * answer after a record changed), how long the page takes in Chromium to show the table and to follow a filter, the
 * time to count every stored job's cost in the background, and the server's memory.
 *
 *   npm run bench:dashboard -- --jobs 10000 --repeat 20 --keep
 *
 * The workspace is made of real records and results (a few jobs run at the emulator, copied with other IDs, times,
 * statuses and providers); no provider is contacted while measuring.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { type BatchRequest, type JobRecord, RelayClient } from "relay-llm";
import { Emulator, ManualClock } from "relay-llm/emulator";

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    jobs: { type: "string", default: "10000" },
    repeat: { type: "string", default: "20" },
    "page-repeat": { type: "string", default: "5" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    keep: { type: "boolean", default: false },
  },
});
const JOBS = Number(flags.jobs);
const REPEAT = Number(flags.repeat);
const PAGE_REPEAT = Number(flags["page-repeat"]);
const log = (line: string) => console.error(`[bench:dashboard] ${line}`);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The dashboard in its own process (`relay dashboard`), so that its memory is its own; resolves with its address. */
function startServer(directory: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "dist", "cli", "main.js"),
      "dashboard",
      "-d",
      directory,
      "--port",
      "0",
      "--poll-interval",
      "0",
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { PATH: process.env.PATH ?? "" } },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
      if (url) resolve({ url, child });
    });
    child.once("exit", (code) => reject(new Error(`the dashboard exited with ${code}: ${output}`)));
  });
}

/** Resident and peak memory of a process, in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

function requests(prefix: string, count: number, model: string): BatchRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index + 1}`,
    model,
    prompt: `Classify ticket ${index + 1}: the printer on floor ${index % 7} prints blank pages again.`,
    maxTokens: 64,
  }));
}

/** A few real jobs at the emulator, whose record and results files are the templates for the rest. */
async function templates(directory: string) {
  const clock = new ManualClock();
  const emulator = await Emulator.start({ clock });
  try {
    const client = new RelayClient({
      directory,
      env: {},
      providers: {
        openai: { apiKey: "bench-key-openai", baseURL: emulator.baseURL("openai") },
        anthropic: { apiKey: "bench-key-anthropic", baseURL: emulator.baseURL("anthropic") },
      },
    });
    emulator.setFate("openai-3", "fail");
    await client.submitBatch({
      requests: requests("openai", 20, "gpt-4o-mini"),
      jobId: "t-openai",
      provider: "openai",
    });
    await client.submitBatch({
      requests: requests("claude", 20, "claude-sonnet-4-5"),
      jobId: "t-anthropic",
      provider: "anthropic",
    });
    await client.submitBatch({
      requests: requests("run", 20, "gpt-4o-mini"),
      jobId: "t-running",
      provider: "openai",
    });
    clock.advance(1_000);
    await client.monitorBatch("t-running");
    clock.advance(2 * 60 * 60_000);
    await client.retrieveBatchResults("t-openai");
    await client.retrieveBatchResults("t-anthropic");
    const read = async (name: string) => readFile(join(directory, name), "utf8");
    return {
      openai: JSON.parse(await read("t-openai.json")) as JobRecord,
      anthropic: JSON.parse(await read("t-anthropic.json")) as JobRecord,
      running: JSON.parse(await read("t-running.json")) as JobRecord,
      openaiResults: await read("t-openai_results.json"),
      anthropicResults: await read("t-anthropic_results.json"),
    };
  } finally {
    await emulator.close();
  }
}

const WORDS = [
  "sentiment",
  "labels",
  "support",
  "tickets",
  "summaries",
  "translation",
  "eval",
  "nightly",
  "retry",
];

/** Writes `count` jobs: 70% finished (half with results stored), 20% running, 10 unreadable records. */
async function buildWorkspace(directory: string, count: number): Promise<void> {
  const base = await templates(directory);
  const start = Date.parse("2026-06-01T00:00:00Z");
  const writes: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const jobId = `job-${String(index).padStart(6, "0")}`;
    if (index % 1000 === 999) {
      writes.push(writeFile(join(directory, `${jobId}.json`), '{"job_id": "truncated'));
      continue;
    }
    const anthropic = index % 3 === 0;
    const running = index % 10 < 2;
    const template = running ? base.running : anthropic ? base.anthropic : base.openai;
    const submitted = new Date(start + index * 37 * 60_000).toISOString();
    const record: JobRecord = {
      ...template,
      job_id: jobId,
      submitted_at: submitted,
      created_at: submitted,
      description: `${WORDS[index % WORDS.length]} ${WORDS[(index * 7) % WORDS.length]} batch ${index}`,
      status: running ? "in_progress" : index % 17 === 0 ? "expired" : template.status,
    };
    writes.push(writeFile(join(directory, `${jobId}.json`), `${JSON.stringify(record, null, 2)}\n`));
    if (!running && index % 2 === 0)
      writes.push(
        writeFile(
          join(directory, `${jobId}_results.json`),
          anthropic ? base.anthropicResults : base.openaiResults,
        ),
      );
    if (writes.length >= 256) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  for (const name of ["t-openai", "t-anthropic", "t-running"]) {
    await rm(join(directory, `${name}.json`));
    await rm(join(directory, `${name}_results.json`), { force: true });
  }
}

function get(url: string): Promise<{ ms: number; bytes: number; body: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (response.statusCode !== 200) reject(new Error(`${url}: ${response.statusCode} ${body}`));
        else resolve({ ms: performance.now() - started, bytes: body.length, body });
      });
    })
      .on("error", reject)
      .end();
  });
}

function stats(samples: number[]): { median: number; p95: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
  return { median: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), "relay-bench-dashboard-"));
  const rows: string[] = [];
  const row = (what: string, samples: number[], note = "") => {
    const { median, p95, max } = stats(samples);
    rows.push(`| ${what} | ${samples.length} | ${ms(median)} | ${ms(p95)} | ${ms(max)} | ${note} |`);
  };
  try {
    log(`writing ${JOBS} jobs into ${directory}`);
    const built = performance.now();
    await buildWorkspace(directory, JOBS);
    log(`workspace written in ${((performance.now() - built) / 1000).toFixed(1)} s`);
    const server = await startServer(directory);
    const pid = server.child.pid as number;
    const started = memoryOf(pid);
    const dashboard = { url: server.url };
    const api = (path: string) => get(new URL(path, dashboard.url).toString());
    try {
      const cold = await api("/api/jobs");
      const first = JSON.parse(cold.body);
      row("`GET /api/jobs` cold (reads every record)", [cold.ms], `${first.total} jobs`);
      const indexed = memoryOf(pid);
      const countingStarted = performance.now();
      for (;;) {
        const page = JSON.parse((await api("/api/jobs")).body);
        if (page.totals.matching.costPending === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const countingMs = performance.now() - countingStarted;
      const cases: [string, string][] = [
        ["`GET /api/jobs` page 1 (50 rows)", "/api/jobs"],
        ["… page 100", "/api/jobs?page=100"],
        ["… text filter", "/api/jobs?q=support"],
        ["… status + provider filter", "/api/jobs?status=completed&provider=anthropic"],
        ["… date range", "/api/jobs?since=2026-08-01&until=2026-09-30"],
        ["… sorted by cost", "/api/jobs?sort=cost"],
        ["… 500 rows", "/api/jobs?pageSize=500"],
        ["`GET /api/jobs/:id` (job view)", "/api/jobs/job-000042"],
        ["`GET /api/jobs/:id/results` (25 results)", "/api/jobs/job-000042/results?limit=25"],
        ["… problems first", "/api/jobs/job-000042/results?limit=25&problems=1"],
      ];
      for (const [what, path] of cases) {
        const samples: number[] = [];
        let bytes = 0;
        for (let run = 0; run < REPEAT; run += 1) {
          const answer = await api(path);
          samples.push(answer.ms);
          bytes = answer.bytes;
        }
        row(what, samples, `${(bytes / 1024).toFixed(0)} KB`);
      }
      // One record rewritten as Relay writes (temporary file, rename): the next answer reads it again.
      const changed: number[] = [];
      const record = JSON.parse(await readFile(join(directory, "job-000500.json"), "utf8")) as JobRecord;
      for (let run = 0; run < REPEAT; run += 1) {
        record.description = `changed ${run}`;
        const temporary = join(directory, `job-000500.json.tmp-bench-${run}`);
        await writeFile(temporary, JSON.stringify(record));
        await rename(temporary, join(directory, "job-000500.json"));
        await new Promise((resolve) => setTimeout(resolve, 20));
        changed.push((await api("/api/jobs?q=changed")).ms);
      }
      row("`GET /api/jobs` after a record changed", changed, "");
      const assets = await Promise.all(
        ["/", "/assets/app.js", "/assets/style.css"].map(async (path) => (await api(path)).ms),
      );
      row("page files (`/`, app.js, style.css)", assets, "");

      const pageRows: string[] = [];
      if (existsSync(flags.chromium)) {
        const profile = await mkdtemp(join(tmpdir(), "relay-bench-chromium-"));
        const context = await chromium.launchPersistentContext(profile, {
          executablePath: flags.chromium,
          headless: true,
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        });
        try {
          const loads: number[] = [];
          const filters: number[] = [];
          const jobViews: number[] = [];
          for (let run = 0; run < PAGE_REPEAT; run += 1) {
            const page = await context.newPage();
            const started = performance.now();
            await page.goto(dashboard.url);
            await page.waitForSelector("table.jobs tbody tr[data-job-id]");
            loads.push(performance.now() - started);
            const filtered = performance.now();
            await page.selectOption("select[name=status]", "expired");
            // A function, not a string: the page's policy forbids evaluating strings.
            await page.waitForFunction(
              () => {
                const page = globalThis as unknown as {
                  document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
                };
                const statuses = Array.from(page.document.querySelectorAll("table.jobs tbody .status"));
                return statuses.length > 0 && statuses.every((status) => status.textContent === "expired");
              },
              undefined,
              { polling: 10 },
            );
            filters.push(performance.now() - filtered);
            const opened = performance.now();
            await page.goto(`${dashboard.url}#/jobs/job-000042`);
            await page.waitForSelector(".results tbody tr[data-position]");
            jobViews.push(performance.now() - opened);
            await page.close();
          }
          const pageRow = (what: string, samples: number[]) => {
            const { median, p95, max } = stats(samples);
            pageRows.push(`| ${what} | ${samples.length} | ${ms(median)} | ${ms(p95)} | ${ms(max)} |`);
          };
          pageRow("open the page until the table shows (50 rows)", loads);
          pageRow("change the status filter until the rows change", filters);
          pageRow("open a job until its results show", jobViews);
        } finally {
          await context.close();
          await rm(profile, { recursive: true, force: true });
        }
      } else log(`${flags.chromium} is absent: no page times`);

      const machine = {
        cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
        node: process.version,
        kernel: release(),
        load: loadavg()
          .map((value) => value.toFixed(1))
          .join(" "),
        commit: (() => {
          try {
            return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
          } catch {
            return "?";
          }
        })(),
      };
      console.log(`\n### Dashboard at ${first.total} jobs (${new Date().toISOString().slice(0, 10)})\n`);
      console.log(
        `Machine: ${machine.cpus}, Node ${machine.node}, Linux ${machine.kernel}, load average ${machine.load}, commit ${machine.commit}.\n`,
      );
      console.log(
        "| API | runs | median ms | p95 ms | max ms | answer |\n| --- | --- | --- | --- | --- | --- |",
      );
      console.log(rows.join("\n"));
      if (pageRows.length > 0) {
        console.log(
          "\n| page in Chromium | runs | median ms | p95 ms | max ms |\n| --- | --- | --- | --- | --- |",
        );
        console.log(pageRows.join("\n"));
      }
      console.log(
        `\nCounting every stored job's cost in the background: ${(countingMs / 1000).toFixed(1)} s after the first answer ` +
          `(${first.totals.matching.costPending} jobs with results). Dashboard process: ${started.rss.toFixed(0)} MB RSS ` +
          `when started, ${indexed.rss.toFixed(0)} MB with the index built, ${memoryOf(pid).rss.toFixed(0)} MB at the end ` +
          `(peak ${memoryOf(pid).peak.toFixed(0)} MB).`,
      );
    } finally {
      const exited = new Promise((resolve) => server.child.once("exit", resolve));
      server.child.kill("SIGTERM");
      await exited;
    }
  } finally {
    if (flags.keep) log(`kept ${directory}`);
    else await rm(directory, { recursive: true, force: true });
  }
}

await main();
