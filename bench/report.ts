/** The suite's results as Markdown tables (printed, and saved beside the JSON). */
import type { ChildResult, PhaseResult } from "./measure.js";
import type { CallEvent } from "./proxy.js";

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  npm: string;
  os: string;
  kernel: string;
  relayCommit: string;
}

export interface RelaySizeResult {
  size: number;
  relay: ChildResult;
  floors: { name: string; result: ChildResult }[];
  /**
   * Bytes on disk: the provider's result files, Relay's merged results file, the whole job workspace, the job
   * record (and how many shards it lists).
   */
  bytes: {
    providerOutput: number;
    relayResults: number;
    workspace: number;
    record?: number;
    records?: number;
  };
  /** The duplicate-ID set of a job this size: bytes in memory and time to fill it, measured on its own. */
  idSet?: { bytes: number; seconds: number };
  emulatorPeakRssMb: number | null;
  proxyCalls: Record<string, number>;
  callTimeline: CallEvent[];
}

export interface AiSdkResult {
  size: number;
  result: ChildResult;
  emulatorPeakRssMb: number | null;
  proxyCalls: Record<string, number>;
  callTimeline: CallEvent[];
}

export interface PollingResult {
  size: number;
  timing: { validatingMs: number; inProgressMs: number; finalizingMs: number };
  pollIntervalMs: number;
  maxRequestsPerBatch: number;
  result: ChildResult;
}

export interface SuiteResult {
  command: string;
  machine: MachineInfo;
  relay: RelaySizeResult[];
  aiSdk: AiSdkResult[];
  polling: PollingResult | null;
}

const BYTE_KEYS = new Set(["bytes_up", "bytes_down", "total"]);

export function formatCalls(calls: Record<string, number>): string {
  const parts = Object.entries(calls)
    .filter(([key]) => !BYTE_KEYS.has(key))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key} ${value}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

const seconds = (value: number | undefined) => (value === undefined ? "–" : value.toFixed(2));
const megabytes = (value: number | undefined | null) =>
  value === undefined || value === null ? "–" : value.toFixed(0);
const sizeLabel = (n: number) =>
  n >= 1_000_000 && n % 1_000_000 === 0
    ? `${n / 1_000_000}M`
    : n >= 1000 && n % 1000 === 0
      ? `${n / 1000}k`
      : String(n);
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;

/** Runs of one size, and the run with the median total time, which the tables show. */
interface Group<T> {
  size: number;
  pick: T;
  totals: number[];
}

function groupBySize<T extends { size: number }>(runs: T[], total: (run: T) => number): Group<T>[] {
  const sizes = [...new Set(runs.map((run) => run.size))].sort((a, b) => a - b);
  return sizes.map((size) => {
    const same = runs.filter((run) => run.size === size).sort((a, b) => total(a) - total(b));
    return { size, pick: same[Math.floor((same.length - 1) / 2)] as T, totals: same.map(total) };
  });
}

const spread = (totals: number[]) =>
  totals.length > 1
    ? `${totals.length} runs, total ${Math.min(...totals).toFixed(2)}–${Math.max(...totals).toFixed(2)} s`
    : "1 run";

function phase(result: ChildResult, name: string): PhaseResult | undefined {
  return result.phases.find((entry) => entry.name === name);
}

function checkText(result: ChildResult): string {
  if (!result.ok) return `**failed**: ${result.error ?? "?"}`;
  const check = result.check;
  if (!check) return "–";
  const problems = [
    check.missing ? `${check.missing} missing` : "",
    check.outOfOrder ? `${check.outOfOrder} not in request order` : "",
    check.notSucceeded ? `${check.notSucceeded} not succeeded` : "",
    check.duplicates ? `${check.duplicates} duplicated` : "",
  ].filter(Boolean);
  return `${check.results} results${problems.length > 0 ? `; ${problems.join(", ")}` : ", in order, all succeeded"}`;
}

/** Where a Relay run's time went, from its phases and the proxy's call timeline. */
function timeSplit(entry: RelaySizeResult | undefined): string[] {
  const submit = entry && phase(entry.relay, "submit");
  const retrieve = entry && phase(entry.relay, "retrieve");
  if (!entry || !submit || !retrieve) return [];
  const calls = entry.callTimeline;
  const submitCalls = calls.filter((call) => call.kind === "upload" || call.kind === "create");
  const downloads = calls.filter((call) => call.kind === "download");
  if (submitCalls.length === 0 || downloads.length === 0) return [];
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const firstCall = Math.min(...submitCalls.map((call) => call.start));
  const submitEnd = submit.startedAt + submit.seconds * 1000;
  const lastDownload = Math.max(...downloads.map((call) => call.end));
  const retrieveEnd = retrieve.startedAt + retrieve.seconds * 1000;
  const inDownloads = downloads.reduce((sum, call) => sum + (call.end - call.start), 0);
  const creates = submitCalls.filter((call) => call.kind === "create").length;
  return [
    `Where the time goes at ${sizeLabel(entry.size)} (from the proxy's call timeline): submit spends ` +
      `${s(firstCall - submit.startedAt)} s before its first provider call (validating, encoding and writing the ` +
      `first shard), then ${s(submitEnd - firstCall)} s writing the rest while uploading, and creating ${creates} batch${creates === 1 ? "" : "es"}; retrieve ` +
      `spends ${s(lastDownload - retrieve.startedAt)} s until the last download ends (${s(inDownloads)} s inside ` +
      `downloads), then ${s(retrieveEnd - lastDownload)} s after it (merging the shards into the results file and ` +
      "reading it back).",
  ];
}

function relayRow(size: number, relay: ChildResult): string {
  const submit = phase(relay, "submit");
  const monitor = phase(relay, "monitor");
  const retrieve = phase(relay, "retrieve");
  return [
    sizeLabel(size),
    seconds(submit?.seconds),
    seconds(monitor?.seconds),
    seconds(retrieve?.seconds),
    seconds(relay.totalSeconds),
    `**${megabytes(relay.peakRssMb)}** (${megabytes(submit?.peakRssMb)} / ${megabytes(monitor?.peakRssMb)} / ${megabytes(retrieve?.peakRssMb)})`,
    `submit: ${formatCalls(submit?.calls ?? {})}; monitor: ${formatCalls(monitor?.calls ?? {})}; retrieve: ${formatCalls(retrieve?.calls ?? {})}`,
    checkText(relay),
  ].join(" | ");
}

export function markdown(suite: SuiteResult): string {
  const lines: string[] = [];
  const m = suite.machine;
  lines.push(`Command: \`${suite.command}\``, "");
  lines.push(
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.os}, Linux ${m.kernel}, ` +
      `Node ${m.node}, npm ${m.npm}. Date: ${m.date}. Relay: ${m.relayCommit}.`,
    "",
  );

  const relayGroups = groupBySize(suite.relay, (run) => run.relay.totalSeconds);
  const aiSdkGroups = groupBySize(suite.aiSdk, (run) => run.result.totalSeconds);
  const loads = [...suite.relay.map((r) => r.relay), ...suite.aiSdk.map((r) => r.result)].flatMap(
    (result) => result.loadAverage ?? [],
  );
  if (loads.length > 0) {
    lines.push(
      `1-minute load average at the start and end of the measured runs: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} ` +
        `(on ${m.nproc} cores; anything else running skews the times, not the memory figures).`,
      "",
    );
  }
  lines.push("### Relay, end to end through the emulator (zero batch timings)", "");
  lines.push(
    "| requests | submit s | monitor s | retrieve s | total s | peak RSS MB (submit / monitor / retrieve) | provider calls | results | runs (the median run is shown) |",
    "|---:|---:|---:|---:|---:|---|---|---|---|",
  );
  for (const group of relayGroups) {
    lines.push(`| ${relayRow(group.size, group.pick.relay)} | ${spread(group.totals)} |`);
  }
  lines.push("");

  lines.push(...timeSplit(relayGroups.at(-1)?.pick), "");

  lines.push("### Retrieval against the floor (readline + JSON.parse and nothing else)", "");
  lines.push(
    "| requests | Relay retrieve s / MB | floor: provider JSONL on disk s / MB | floor: Relay's results file s / MB | floor: provider JSONL over HTTP s / MB | Relay ÷ disk floor (time) | Relay ÷ HTTP floor (time) | bytes: provider output / Relay results / workspace |",
    "|---:|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const { pick: entry } of relayGroups) {
    const retrieve = phase(entry.relay, "retrieve");
    const floor = (name: string) => entry.floors.find((f) => f.name === name)?.result;
    const cell = (result: ChildResult | undefined) =>
      result
        ? result.ok
          ? `${seconds(result.totalSeconds)} / ${megabytes(result.peakRssMb)}`
          : "failed"
        : "–";
    const disk = floor("disk");
    const http = floor("http");
    const ratio = (result: ChildResult | undefined) =>
      retrieve && result?.ok && result.totalSeconds > 0
        ? `${(retrieve.seconds / result.totalSeconds).toFixed(1)}×`
        : "–";
    lines.push(
      `| ${sizeLabel(entry.size)} | ${retrieve ? `${seconds(retrieve.seconds)} / ${megabytes(retrieve.peakRssMb)}` : "–"} | ${cell(disk)} | ${cell(floor("relay-file"))} | ${cell(http)} | ${ratio(disk)} | ${ratio(http)} | ${mib(entry.bytes.providerOutput)} / ${mib(entry.bytes.relayResults)} / ${mib(entry.bytes.workspace)} |`,
    );
  }
  lines.push("");

  lines.push(
    "### Submission against its floor (encode the same lines, stream the same shard files, nothing else)",
    "",
  );
  lines.push(
    "| requests | Relay submit s / MB | floor s / MB | Relay ÷ floor (time) | medians of | load (1 min, start–end of each Relay run) |",
    "|---:|---:|---:|---:|---:|---|",
  );
  for (const group of relayGroups) {
    const runs = suite.relay.filter((run) => run.size === group.size);
    const relaySubmit = median(runs.map((run) => phase(run.relay, "submit")?.seconds));
    const floorSubmit = median(runs.map((run) => floorOf(run, "submit")?.totalSeconds));
    const relayMb = median(runs.map((run) => phase(run.relay, "submit")?.peakRssMb));
    const floorMb = median(runs.map((run) => floorOf(run, "submit")?.peakRssMb));
    lines.push(
      `| ${sizeLabel(group.size)} | ${seconds(relaySubmit)} / ${megabytes(relayMb)} | ${seconds(floorSubmit)} / ${megabytes(floorMb)} | ${ratioText(relaySubmit, floorSubmit)} | ${runs.length} | ${loadsOf(runs)} |`,
    );
  }
  lines.push("");

  lines.push("### Cost against size (medians)", "");
  lines.push(
    "| requests | total s | µs per request | peak RSS MB | job record (shards) | duplicate-ID set in memory |",
    "|---:|---:|---:|---:|---|---|",
  );
  for (const group of relayGroups) {
    const runs = suite.relay.filter((run) => run.size === group.size);
    const total = median(runs.map((run) => (run.relay.ok ? run.relay.totalSeconds : undefined)));
    const peak = median(runs.map((run) => (run.relay.ok ? run.relay.peakRssMb : undefined)));
    const entry = group.pick;
    const record =
      entry.bytes.record !== undefined
        ? `${(entry.bytes.record / 1024).toFixed(0)} KB (${entry.bytes.records})`
        : "–";
    const ids = entry.idSet ? `${(entry.idSet.bytes / 1048576).toFixed(1)} MB` : "–";
    lines.push(
      `| ${sizeLabel(group.size)} | ${seconds(total)} | ${total === undefined ? "–" : ((total * 1e6) / group.size).toFixed(1)} | ${megabytes(peak)} | ${record} | ${ids} |`,
    );
  }
  lines.push("");

  if (aiSdkGroups.length > 0) {
    lines.push("### Vercel AI SDK 7 experimental batch, same workload", "");
    lines.push(
      "| requests | build array s | submit s | monitor s | retrieve s | total s | peak RSS MB (build / submit / monitor / retrieve) | provider calls | results | what happened | runs |",
      "|---:|---:|---:|---:|---:|---:|---|---|---|---|---|",
    );
    for (const { pick: entry, totals } of aiSdkGroups) {
      const r = entry.result;
      const p = (name: string) => phase(r, name);
      lines.push(
        `| ${sizeLabel(entry.size)} | ${seconds(p("build requests")?.seconds)} | ${seconds(p("submit")?.seconds)} | ${seconds(p("monitor")?.seconds)} | ${seconds(p("retrieve")?.seconds)} | ${seconds(r.totalSeconds)} | **${megabytes(r.peakRssMb)}** (${megabytes(p("build requests")?.peakRssMb)} / ${megabytes(p("submit")?.peakRssMb)} / ${megabytes(p("monitor")?.peakRssMb)} / ${megabytes(p("retrieve")?.peakRssMb)}) | ${formatCalls(entry.proxyCalls)} | ${checkText(r)} | ${r.notes.join("; ").replaceAll("|", "\\|")} | ${spread(totals)} |`,
      );
    }
    lines.push("");
    lines.push("Relay at the same sizes (from the table above):", "");
    lines.push(
      "| requests | Relay total s | AI SDK total s | Relay peak MB | AI SDK peak MB | Relay results | AI SDK results |",
      "|---:|---:|---:|---:|---:|---|---|",
    );
    for (const { pick: entry } of aiSdkGroups) {
      const relay = relayGroups.find((group) => group.size === entry.size)?.pick.relay;
      lines.push(
        `| ${sizeLabel(entry.size)} | ${seconds(relay?.totalSeconds)} | ${seconds(entry.result.totalSeconds)} | ${megabytes(relay?.peakRssMb)} | ${megabytes(entry.result.peakRssMb)} | ${relay ? checkText(relay) : "–"} | ${checkText(entry.result)} |`,
      );
    }
    lines.push("");
  }

  if (suite.polling) {
    const p = suite.polling;
    const monitor = phase(p.result, "monitor");
    const submit = phase(p.result, "submit");
    lines.push("### Polling cost (emulator with non-zero batch timings)", "");
    lines.push(
      `${sizeLabel(p.size)} requests at ${p.maxRequestsPerBatch} per batch (Relay's maxRequestsPerBatch), emulator validating ${p.timing.validatingMs} ms / in progress ${p.timing.inProgressMs} ms / finalizing ${p.timing.finalizingMs} ms per batch, ` +
        `waitForBatch with pollIntervalMs ${p.pollIntervalMs}. ${p.result.notes.join("; ")}.`,
      "",
    );
    lines.push(
      "| phase | seconds | provider calls |",
      "|---|---:|---|",
      `| submit | ${seconds(submit?.seconds)} | ${formatCalls(submit?.calls ?? {})} |`,
      `| monitor (waitForBatch) | ${seconds(monitor?.seconds)} | ${formatCalls(monitor?.calls ?? {})} |`,
      "",
    );
  }
  lines.push(...targets(suite), "");
  return lines.join("\n");
}

function median(values: (number | undefined)[]): number | undefined {
  const known = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1
    ? known[middle]
    : ((known[middle - 1] as number) + (known[middle] as number)) / 2;
}

function floorOf(run: RelaySizeResult, name: string): ChildResult | undefined {
  const result = run.floors.find((floor) => floor.name === name)?.result;
  return result?.ok ? result : undefined;
}

function ratioText(value: number | undefined, base: number | undefined): string {
  return value !== undefined && base ? `${(value / base).toFixed(2)}×` : "–";
}

function loadsOf(runs: RelaySizeResult[]): string {
  return runs
    .map((run) => run.relay.loadAverage)
    .filter((load): load is [number, number] => load !== undefined)
    .map(([start, end]) => `${start.toFixed(1)}–${end.toFixed(1)}`)
    .join(", ");
}

/** The targets of the benchmark, each with the medians it is judged on. */
function targets(suite: SuiteResult): string[] {
  const runsOf = (size: number) => suite.relay.filter((run) => run.size === size && run.relay.ok);
  const lines = [
    "### Targets (medians of the runs of this suite)",
    "",
    "| target | measured | verdict |",
    "|---|---|---|",
  ];
  const verdict = (met: boolean | undefined) =>
    met === undefined ? "not measured" : met ? "**met**" : "**not met**";
  const million = runsOf(1_000_000);
  if (million.length > 0) {
    const retrieve = median(million.map((run) => phase(run.relay, "retrieve")?.seconds));
    const http = median(million.map((run) => floorOf(run, "http")?.totalSeconds));
    const submit = median(million.map((run) => phase(run.relay, "submit")?.seconds));
    const submitFloor = median(million.map((run) => floorOf(run, "submit")?.totalSeconds));
    const peak = median(million.map((run) => run.relay.peakRssMb));
    const within = (value?: number, base?: number, limit = 2) =>
      value !== undefined && base ? value <= limit * base : undefined;
    lines.push(
      `| 1M: retrieval ≤ 2× the HTTP floor | ${seconds(retrieve)} s vs ${seconds(http)} s (${ratioText(retrieve, http)}) | ${verdict(within(retrieve, http))} |`,
      `| 1M: submission ≤ 2× the submission floor | ${seconds(submit)} s vs ${seconds(submitFloor)} s (${ratioText(submit, submitFloor)}) | ${verdict(within(submit, submitFloor))} |`,
      `| 1M: peak RSS < 256 MB | ${megabytes(peak)} MB | ${verdict(peak === undefined ? undefined : peak < 256)} |`,
    );
  }
  for (const size of [...new Set(suite.aiSdk.map((run) => run.size))]) {
    const sdk = suite.aiSdk.filter(
      (run) => run.size === size && run.result.ok && (run.result.check?.results ?? 0) > 0,
    );
    const relay = runsOf(size);
    if (sdk.length === 0 || relay.length === 0) continue;
    const relayTotal = median(relay.map((run) => run.relay.totalSeconds));
    const sdkTotal = median(sdk.map((run) => run.result.totalSeconds));
    const relayPeak = median(relay.map((run) => run.relay.peakRssMb));
    const sdkPeak = median(sdk.map((run) => run.result.peakRssMb));
    lines.push(
      `| ${sizeLabel(size)} vs the AI SDK: total ≤ 0.35× its time | ${seconds(relayTotal)} s vs ${seconds(sdkTotal)} s (${ratioText(relayTotal, sdkTotal)}) | ${verdict(relayTotal !== undefined && sdkTotal ? relayTotal <= 0.35 * sdkTotal : undefined)} |`,
      `| ${sizeLabel(size)} vs the AI SDK: peak RSS ≤ 0.4× its peak | ${megabytes(relayPeak)} MB vs ${megabytes(sdkPeak)} MB (${ratioText(relayPeak, sdkPeak)}) | ${verdict(relayPeak !== undefined && sdkPeak ? relayPeak <= 0.4 * sdkPeak : undefined)} |`,
    );
  }
  const five = suite.relay.filter((run) => run.size === 5_000_000);
  if (five.length > 0) {
    const finished = five.filter((run) => run.relay.ok && run.relay.check?.results === 5_000_000);
    const peak = median(finished.map((run) => run.relay.peakRssMb));
    const total = median(finished.map((run) => run.relay.totalSeconds));
    const millionTotal = median(million.map((run) => run.relay.totalSeconds));
    lines.push(
      `| 5M: finishes | ${finished.length} of ${five.length} runs, every result checked | ${verdict(finished.length === five.length)} |`,
      `| 5M: peak RSS < 300 MB | ${megabytes(peak)} MB | ${verdict(peak === undefined ? undefined : peak < 300)} |`,
      `| 5M: time within 6× the 1M time | ${seconds(total)} s vs ${seconds(millionTotal)} s (${ratioText(total, millionTotal)}) | ${verdict(total !== undefined && millionTotal ? total <= 6 * millionTotal : undefined)} |`,
    );
  }
  return lines;
}
