import type { JobProgress, ShardProgress } from "../../jobs/watch.js";
import { FINISHED_STATUSES } from "../../types.js";
import { count, duration, isoTimestamp } from "../output/format.js";
import { sanitize } from "../output/sanitize.js";
import { type Style, statusStyle } from "../output/style.js";

/** The most shard lines a live display shows; the rest are summed up in one line. */
const MAX_SHARD_LINES = 8;

/** What a batch or job is doing, in words: a batch whose requests have all run but whose results are not ready is "finalizing", never done. */
function label(status: string, finalizing: boolean): string {
  return finalizing ? "finalizing" : status;
}

function eta(progress: JobProgress): string {
  if (FINISHED_STATUSES.has(progress.status)) return "done";
  if (progress.finalizing && progress.remaining === 0) return "results being written";
  if (progress.etaMs === null) return "ETA unknown";
  return progress.etaMs === 0 ? "all requests ran" : `ETA ${duration(progress.etaMs)}`;
}

function bar(done: number, total: number, width: number): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

function counts(done: number, total: number, failed: number): string {
  return `${count(done)}/${count(total)}${failed > 0 ? `  ${count(failed)} failed` : ""}`;
}

/** The lines of one frame of the live display: the job, overall progress, then each shard. */
export function liveFrame(progress: JobProgress, columns: number, style: Style, now = Date.now()): string[] {
  const barWidth = Math.max(10, Math.min(40, columns - 50));
  const jobLabel = label(progress.status, progress.finalizing && progress.status === "in_progress");
  const elapsed = duration(progress.elapsedMs + Math.max(0, now - Date.parse(progress.checkedAt)));
  const lines: { plain: string; styled: string }[] = [];
  const add = (plain: string, styled = plain) => lines.push({ plain, styled });

  const id = sanitize(progress.jobId);
  const provider = sanitize(progress.providerStatus || "-");
  add(
    `${id}  ${jobLabel} (provider: ${provider})  elapsed ${elapsed}`,
    `${style.bold(id)}  ${statusStyle(style, jobLabel)(jobLabel)} (provider: ${provider})  elapsed ${elapsed}`,
  );
  const done = progress.completed + progress.failed;
  const overall = `${bar(done, progress.total, barWidth)}  ${counts(done, progress.total, progress.failed)}  ${eta(progress)}`;
  add(`  overall   ${overall}`, `  ${style.bold("overall")}   ${overall}`);
  if (progress.shards.length > 1) {
    for (const shard of progress.shards.slice(0, MAX_SHARD_LINES)) add(...shardLine(shard, barWidth, style));
    const rest = progress.shards.slice(MAX_SHARD_LINES);
    if (rest.length > 0) {
      const finished = rest.filter((shard) => shard.remaining === 0 && !shard.finalizing).length;
      add(`  … ${rest.length} more batches, ${finished} of them with every request run`);
    }
  }
  // A line wider than the terminal would wrap and spoil the redraw: cut it (without colour) instead.
  return lines.map(({ plain, styled }) =>
    [...plain].length < columns ? styled : `${[...plain].slice(0, Math.max(1, columns - 2)).join("")}…`,
  );
}

function shardLine(shard: ShardProgress, barWidth: number, style: Style): [string, string] {
  const done = shard.completed + shard.failed;
  const state = label(shard.providerStatus ?? shard.status, shard.finalizing);
  const name = `batch ${String(shard.index + 1).padEnd(3)}`;
  const body = `${bar(done, shard.total, barWidth)}  ${counts(done, shard.total, shard.failed)}  `;
  const safeState = sanitize(state);
  return [`  ${name} ${body}${safeState}`, `  ${name} ${body}${statusStyle(style, shard.status)(safeState)}`];
}

/** One plain line per check, for logs and pipes. */
export function progressLine(progress: JobProgress): string {
  const done = progress.completed + progress.failed;
  const jobLabel = label(progress.status, progress.finalizing && progress.status === "in_progress");
  let line =
    `${isoTimestamp(progress.checkedAt)} ${progress.jobId}: ${jobLabel} (provider: ${progress.providerStatus || "-"}) ` +
    `${done}/${progress.total} done, ${progress.failed} failed`;
  if (progress.shards.length > 1) {
    const byState = new Map<string, number>();
    for (const shard of progress.shards) {
      const state = label(shard.status, shard.finalizing);
      byState.set(state, (byState.get(state) ?? 0) + 1);
    }
    line += `, batches: ${[...byState].map(([state, n]) => `${n} ${state}`).join(", ")}`;
  }
  if (progress.status === "in_progress" || progress.status === "pending") line += `, ${eta(progress)}`;
  return sanitize(line);
}
