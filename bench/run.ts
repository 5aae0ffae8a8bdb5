/**
 * `npm run bench`: Relay end to end through its emulator at several sizes, the readline + JSON.parse floor on the
 * same results, the Vercel AI SDK 7 experimental batch on the same workload, and the cost of polling.
 *
 * Every measurement runs in its own child process (its peak RSS is its own VmHWM); the emulator runs in another
 * process, started with Relay's CLI; provider calls are counted by a pass-through proxy in this process.
 *
 *   npm run bench -- --sizes 10k,100k --skip-ai-sdk --skip-polling --repeat 3 --keep --cpu-prof
 *   npm run bench -- --with-5m          # adds a 5M-request point (about 10 GB of temporary disk)
 */
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { JobRecord } from "relay-llm";
import { EmulatorProcess, type EmulatorTiming, ZERO_TIMING } from "./emulator.js";
import type { ChildConfig, ChildResult } from "./measure.js";
import { type CallEvent, CountingProxy } from "./proxy.js";
import {
  type AiSdkResult,
  formatCalls,
  type MachineInfo,
  markdown,
  type PollingResult,
  type RelaySizeResult,
  type SuiteResult,
} from "./report.js";
import { idOf } from "./workload.js";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, "../..");
const JOB_ID = "bench";

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sizes: { type: "string", default: "10k,100k,1M" },
    "skip-ai-sdk": { type: "boolean", default: false },
    "with-5m": { type: "boolean", default: false },
    "ai-sdk-sizes": { type: "string", default: "50k,60k" },
    "skip-polling": { type: "boolean", default: false },
    "polling-size": { type: "string", default: "100k" },
    "poll-interval-ms": { type: "string", default: "1000" },
    "timeout-min": { type: "string", default: "30" },
    repeat: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    "heap-prof": { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, ".tmp", "bench") },
  },
});

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`not a size: "${text}" (use 10000, 10k or 1M)`);
  const scale = { "": 1, k: 1_000, m: 1_000_000 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * scale);
}

const parseSizes = (text: string) => text.split(",").filter(Boolean).map(parseSize);
const aiSdkSizes = flags["skip-ai-sdk"] ? [] : parseSizes(flags["ai-sdk-sizes"]);
// The AI SDK is compared with Relay on the same workload, so Relay runs at those sizes too.
const relaySizes = [
  ...new Set([...parseSizes(flags.sizes), ...aiSdkSizes, ...(flags["with-5m"] ? [5_000_000] : [])]),
].sort((a, b) => a - b);
const pollIntervalMs = Number(flags["poll-interval-ms"]);
const timeoutMs = Number(flags["timeout-min"]) * 60_000;
const log = (line: string) => console.error(`[bench] ${line}`);

function command(program: string, args: string[]): string {
  try {
    return execFileSync(program, args, {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "?";
  }
}

function machineInfo(): MachineInfo {
  const osRelease = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  const dirtySrc = command("git", ["status", "--porcelain", "--", "src"]).split("\n").filter(Boolean).length;
  return {
    date: new Date().toISOString(),
    nproc: Number(command("nproc", [])),
    cpuModel: cpus()[0]?.model ?? "?",
    memoryGiB: Math.round((memKb / 1048576) * 10) / 10,
    node: process.version,
    npm: command("npm", ["--version"]),
    os: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? "?",
    kernel: release(),
    // BENCH_RELAY_REVISION names the revision when the suite runs from an exported copy of the repository.
    relayCommit:
      process.env.BENCH_RELAY_REVISION ??
      `${command("git", ["rev-parse", "--short", "HEAD"])}` +
        (dirtySrc > 0 ? ` + uncommitted changes in ${dirtySrc} src/ file(s)` : " (src/ clean)"),
  };
}

let childCounter = 0;

/** Runs one bench/dist script in a fresh Node process and returns what it measured. */
async function runMeasured(
  script: string,
  config: Omit<ChildConfig, "out">,
  label: string,
): Promise<ChildResult> {
  childCounter += 1;
  const out = join(flags.out, "children", `${childCounter}-${label}.json`);
  await mkdir(dirname(out), { recursive: true });
  await rm(out, { force: true });
  const profileDir = join(flags.out, "profiles", `${childCounter}-${label}`);
  const nodeFlags = [
    ...(flags["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    ...(flags["heap-prof"] ? ["--heap-prof", `--heap-prof-dir=${profileDir}`] : []),
  ];
  const child = spawn(
    process.execPath,
    [...nodeFlags, join(BENCH_DIR, script), JSON.stringify({ ...config, out })],
    {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, OPENAI_API_KEY: "bench", OPENAI_BASE_URL: `${config.proxy ?? ""}/openai/v1` },
    },
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  clearTimeout(timer);
  if (existsSync(out)) return JSON.parse(readFileSync(out, "utf8")) as ChildResult;
  return {
    kind: label,
    size: config.size,
    ok: false,
    error: timedOut
      ? `killed after ${flags["timeout-min"]} min`
      : `exited with ${exit.code ?? exit.signal} without a result`,
    phases: [],
    totalSeconds: 0,
    peakRssMb: 0,
    peakResetWorked: false,
    notes: [],
  };
}

function summary(result: ChildResult): string {
  if (!result.ok) return `FAILED: ${result.error}`;
  const phases = result.phases
    .map((p) => `${p.name} ${p.seconds.toFixed(2)} s / ${p.peakRssMb} MB`)
    .join(", ");
  const check = result.check ? `; ${result.check.results} results` : "";
  return `${phases}; total ${result.totalSeconds.toFixed(2)} s, peak ${result.peakRssMb} MB${check}`;
}

async function directorySize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Downloads a file's content straight from the emulator (not through the proxy: it is not a provider call). */
function downloadTo(url: string, path: string): Promise<void> {
  return new Promise((resolveDownload, reject) => {
    get(url, { headers: { authorization: "Bearer bench" } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET ${url}: HTTP ${response.statusCode}`));
        response.resume();
        return;
      }
      pipeline(response, createWriteStream(path)).then(resolveDownload, reject);
    }).on("error", reject);
  });
}

async function withEmulator<T>(
  timing: EmulatorTiming,
  work: (emulator: EmulatorProcess, proxy: CountingProxy) => Promise<T>,
): Promise<{
  value: T;
  emulatorPeakRssMb: number | null;
  proxyCalls: Record<string, number>;
  callTimeline: CallEvent[];
}> {
  const emulator = await EmulatorProcess.start(ROOT, timing);
  const proxy = new CountingProxy(emulator.origin);
  let value: T;
  let proxyCalls: Record<string, number> = {};
  let emulatorPeakRssMb: number | null = null;
  try {
    await proxy.start();
    value = await work(emulator, proxy);
    proxyCalls = proxy.snapshot();
  } finally {
    await proxy.stop();
    emulatorPeakRssMb = await emulator.stop();
    log(`emulator peak RSS ${emulatorPeakRssMb ?? "?"} MB (its own process, not counted)`);
  }
  return { value, emulatorPeakRssMb, proxyCalls, callTimeline: proxy.events };
}

async function relaySize(size: number, workRoot: string): Promise<RelaySizeResult> {
  const workspace = join(workRoot, `relay-${size}`);
  const run = await withEmulator(ZERO_TIMING, async (emulator, proxy) => {
    log(`Relay, ${size} requests ...`);
    const relay = await runMeasured(
      "child-relay.js",
      { size, proxy: proxy.origin, workspace, jobId: JOB_ID, pollIntervalMs },
      `relay-${size}`,
    );
    log(`Relay ${size}: ${summary(relay)}; calls: ${formatCalls(proxy.snapshot())}`);
    const floors: RelaySizeResult["floors"] = [];
    const bytes = { providerOutput: 0, relayResults: 0, workspace: 0, record: 0, records: 0 };
    const recordPath = join(workspace, `${JOB_ID}.json`);
    const resultsPath = join(workspace, `${JOB_ID}_results.json`);
    if (relay.ok && existsSync(recordPath) && existsSync(resultsPath)) {
      const record = JSON.parse(readFileSync(recordPath, "utf8")) as JobRecord;
      const fileIds = record.shards.flatMap((shard) =>
        [shard.output_file_id, shard.error_file_id].filter((id): id is string => typeof id === "string"),
      );
      const outputDir = join(workRoot, `provider-output-${size}`);
      await mkdir(outputDir, { recursive: true });
      const files: string[] = [];
      for (const id of fileIds) {
        const file = join(outputDir, `${id}.jsonl`);
        await downloadTo(`${emulator.origin}/openai/v1/files/${id}/content`, file);
        files.push(file);
        bytes.providerOutput += (await stat(file)).size;
      }
      bytes.relayResults = (await stat(resultsPath)).size;
      bytes.workspace = await directorySize(workspace);

      const disk = await runMeasured(
        "child-floor.js",
        { size, files, format: "jsonl" },
        `floor-disk-${size}`,
      );
      log(`floor (provider JSONL on disk) ${size}: ${summary(disk)}`);
      floors.push({ name: "disk", result: disk });
      const relayFile = await runMeasured(
        "child-floor.js",
        { size, files: [resultsPath], format: "relay-array" },
        `floor-relay-file-${size}`,
      );
      log(`floor (Relay's results file) ${size}: ${summary(relayFile)}`);
      floors.push({ name: "relay-file", result: relayFile });
      const http = await runMeasured(
        "child-floor.js",
        { size, emulator: emulator.origin, fileIds },
        `floor-http-${size}`,
      );
      log(`floor (provider JSONL over HTTP) ${size}: ${summary(http)}`);
      floors.push({ name: "http", result: http });
      bytes.record = (await stat(recordPath)).size;
      bytes.records = record.shards.length;
    }
    // Uploaded straight to the emulator (not through the proxy: it is not a Relay call), after Relay's run.
    const submitFloor = await runMeasured(
      "child-submit-floor.js",
      { size, emulator: emulator.origin, workspace: workRoot },
      `floor-submit-${size}`,
    );
    log(`floor (encode and upload the shards) ${size}: ${summary(submitFloor)}`);
    floors.push({ name: "submit", result: submitFloor });
    return { relay, floors, bytes };
  });
  if (!flags.keep) await rm(workRoot, { recursive: true, force: true });
  return {
    size,
    ...run.value,
    idSet: await idSetCost(size),
    emulatorPeakRssMb: run.emulatorPeakRssMb,
    proxyCalls: run.proxyCalls,
    callTimeline: run.callTimeline,
  };
}

interface IdSet {
  add(id: string): boolean;
  readonly bytes: number;
  close(): void;
}

/** What the duplicate-ID set of a job of `size` bench requests holds in memory, measured on its own. */
async function idSetCost(size: number): Promise<{ bytes: number; seconds: number }> {
  // Not public API: loaded from the build by path.
  const { FingerprintIdSet } = (await import(pathToFileURL(join(ROOT, "dist/jobs/id-set.js")).href)) as {
    FingerprintIdSet: new (log: string) => IdSet;
  };
  const log = join(tmpdir(), `relay-bench-ids-${process.pid}.log`);
  const set = new FingerprintIdSet(log);
  const started = performance.now();
  try {
    for (let index = 0; index < size; index += 1) set.add(idOf(index));
    return { bytes: set.bytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    set.close();
  }
}

async function aiSdkSize(size: number): Promise<AiSdkResult> {
  const run = await withEmulator(ZERO_TIMING, async (_emulator, proxy) => {
    log(`AI SDK, ${size} requests ...`);
    const result = await runMeasured(
      "child-ai-sdk.js",
      { size, proxy: proxy.origin, pollIntervalMs },
      `ai-sdk-${size}`,
    );
    log(`AI SDK ${size}: ${summary(result)}; ${result.notes.join("; ")}`);
    return result;
  });
  return {
    size,
    result: run.value,
    emulatorPeakRssMb: run.emulatorPeakRssMb,
    proxyCalls: run.proxyCalls,
    callTimeline: run.callTimeline,
  };
}

/**
 * Polling cost: a job of many shards watched with waitForBatch while the emulator keeps each batch running for a
 * while. 100k requests at 5,000 per batch make 20 batches, as many as a 1M-request job has.
 */
async function polling(size: number, workRoot: string): Promise<PollingResult> {
  const timing = { validatingMs: 1_000, inProgressMs: 20_000, finalizingMs: 1_000 };
  const interval = 2_000;
  const maxRequestsPerBatch = 5_000;
  const run = await withEmulator(timing, async (_emulator, proxy) => {
    log(`polling cost, ${size} requests at ${maxRequestsPerBatch} per batch ...`);
    const result = await runMeasured(
      "child-relay.js",
      {
        size,
        proxy: proxy.origin,
        workspace: join(workRoot, "polling"),
        jobId: JOB_ID,
        pollIntervalMs: interval,
        maxRequestsPerBatch,
      },
      `polling-${size}`,
    );
    log(`polling ${size}: ${summary(result)}; calls: ${formatCalls(proxy.snapshot())}`);
    return result;
  });
  if (!flags.keep) await rm(workRoot, { recursive: true, force: true });
  return { size, timing, pollIntervalMs: interval, maxRequestsPerBatch, result: run.value };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const suite: SuiteResult = {
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
    machine: machineInfo(),
    relay: [],
    aiSdk: [],
    polling: null,
  };
  log(`machine: ${JSON.stringify(suite.machine)}`);
  log(`Relay sizes ${relaySizes.join(", ")}; AI SDK sizes ${aiSdkSizes.join(", ") || "skipped"}`);
  await mkdir(flags.out, { recursive: true });
  const repeat = Math.max(1, Number(flags.repeat) || 1);
  for (const size of relaySizes) {
    for (let run = 0; run < repeat; run += 1) {
      suite.relay.push(await relaySize(size, await mkdtemp(join(tmpdir(), "relay-bench-"))));
    }
  }
  for (const size of aiSdkSizes) {
    for (let run = 0; run < repeat; run += 1) suite.aiSdk.push(await aiSdkSize(size));
  }
  if (!flags["skip-polling"]) {
    suite.polling = await polling(
      parseSize(flags["polling-size"]),
      await mkdtemp(join(tmpdir(), "relay-bench-")),
    );
  }

  const stamp = suite.machine.date.replace(/[:.]/g, "-");
  const report = markdown(suite);
  await writeFile(join(flags.out, `results-${stamp}.json`), `${JSON.stringify(suite, null, 2)}\n`);
  await writeFile(join(flags.out, `report-${stamp}.md`), `${report}\n`);
  console.log(report);
  log(`saved ${join(flags.out, `results-${stamp}.json`)} and report-${stamp}.md`);
}

await main();
