/**
 * What a measured child process uses: its own memory high-water mark (VmHWM, never resourceUsage().maxRSS, which
 * can carry the parent's peak across fork/exec), phases timed one after another, and the provider calls counted by
 * the parent's proxy at each phase boundary.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { loadavg } from "node:os";

/** The parent's configuration for one child, passed as JSON in argv[2]. */
export interface ChildConfig {
  size: number;
  /** Where the child writes its ChildResult as JSON. */
  out: string;
  /** The counting proxy's origin (http://127.0.0.1:port); calls go to `${proxy}/openai/v1`. */
  proxy?: string;
  /** The emulator's own origin, for floors that read from it directly (not counted). */
  emulator?: string;
  workspace?: string;
  jobId?: string;
  pollIntervalMs?: number;
  /** Relay only: a lower requests-per-batch limit than the provider's (to get many shards from few requests). */
  maxRequestsPerBatch?: number;
  /** Files for the disk floors. */
  files?: string[];
  /** Output file IDs for the HTTP floor. */
  fileIds?: string[];
  /** "jsonl": one JSON value per line; "relay-array": Relay's results file (a JSON array, one element per line). */
  format?: "jsonl" | "relay-array";
}

export interface PhaseResult {
  name: string;
  /** Epoch milliseconds, to line phases up with the proxy's call timeline. */
  startedAt: number;
  seconds: number;
  /** VmHWM during this phase only (the high-water mark is reset at the start of every phase). */
  peakRssMb: number;
  /** Provider calls made during the phase, by kind (upload, create, retrieve, list, download, ...). */
  calls: Record<string, number>;
}

export interface ChildResult {
  kind: string;
  size: number;
  ok: boolean;
  error?: string;
  phases: PhaseResult[];
  totalSeconds: number;
  /** The highest VmHWM over all phases: the run's own peak resident memory. */
  peakRssMb: number;
  /** Whether the per-phase high-water-mark reset (/proc/self/clear_refs) worked; if not, phase peaks are cumulative. */
  peakResetWorked: boolean;
  /** Results read, and how many were out of order, missing or not `succeeded`. */
  check?: { results: number; outOfOrder: number; notSucceeded: number; missing: number; duplicates: number };
  /** Anything the run observed that the numbers alone do not say. */
  notes: string[];
  /** The machine's 1-minute load average when the run started and ended (other work skews timings). */
  loadAverage?: [number, number];
  heapUsedMb?: number;
}

function statusField(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) : Number.NaN;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** This process's resident-set high-water mark, in MB. */
export function peakRssMb(): number {
  return mb(statusField("VmHWM"));
}

/** Resets VmHWM to the current RSS (Linux: writing 5 to /proc/self/clear_refs). */
export function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

export function readConfig(): ChildConfig {
  const raw = process.argv[2];
  if (!raw) throw new Error("usage: node child.js '<json config>'");
  return JSON.parse(raw) as ChildConfig;
}

/** The proxy's call counters (a control path the proxy answers itself, not counted). */
export function fetchCounts(proxy: string | undefined): Promise<Record<string, number>> {
  if (!proxy) return Promise.resolve({});
  return new Promise((resolve, reject) => {
    get(`${proxy}/__bench/counts`, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve(JSON.parse(body) as Record<string, number>));
      response.on("error", reject);
    }).on("error", reject);
  });
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) calls[key] = delta;
  }
  return calls;
}

/** Times phases one after another and records each phase's own peak memory and provider calls. */
export class Recorder {
  readonly phases: PhaseResult[] = [];
  readonly notes: string[] = [];
  peakResetWorked = true;
  private overallPeak = 0;
  private readonly loadAtStart = loadavg()[0] ?? 0;

  constructor(private readonly proxy: string | undefined) {}

  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const before = await fetchCounts(this.proxy);
    if (!resetPeakRss()) this.peakResetWorked = false;
    const startedAt = Date.now();
    const started = performance.now();
    try {
      return await work();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const peak = peakRssMb();
      this.overallPeak = Math.max(this.overallPeak, peak);
      const calls = difference(await fetchCounts(this.proxy), before);
      this.phases.push({
        name,
        startedAt,
        seconds: Math.round(seconds * 1000) / 1000,
        peakRssMb: peak,
        calls,
      });
    }
  }

  result(kind: string, size: number, extra: Partial<ChildResult> = {}): ChildResult {
    this.overallPeak = Math.max(this.overallPeak, peakRssMb());
    return {
      kind,
      size,
      ok: true,
      phases: this.phases,
      totalSeconds: Math.round(this.phases.reduce((sum, phase) => sum + phase.seconds, 0) * 1000) / 1000,
      peakRssMb: this.overallPeak,
      peakResetWorked: this.peakResetWorked,
      notes: this.notes,
      loadAverage: [round2(this.loadAtStart), round2(loadavg()[0] ?? 0)],
      heapUsedMb: Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10,
      ...extra,
    };
  }
}

/** Runs a child's main function and writes its result (or its failure) where the parent expects it. */
export async function runChild(
  kind: string,
  main: (config: ChildConfig, recorder: Recorder) => Promise<Partial<ChildResult>>,
): Promise<void> {
  const config = readConfig();
  const recorder = new Recorder(config.proxy);
  let result: ChildResult;
  try {
    result = recorder.result(kind, config.size, await main(config, recorder));
  } catch (error) {
    result = recorder.result(kind, config.size, {
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    console.error(error);
  }
  writeFileSync(config.out, `${JSON.stringify(result, null, 2)}\n`);
}
