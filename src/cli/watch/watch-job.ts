import type { JobProgress } from "../../jobs/watch.js";
import type { BatchJob } from "../../types.js";
import type { CliContext } from "../context.js";
import { InterruptedError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import type { Terminal } from "../output/terminal.js";
import { liveFrame, progressLine } from "./view.js";

export interface WatchSettings {
  /** Seconds between checks while the job moves. */
  interval: number;
  /** Seconds before giving up (exit 3). */
  timeout?: number;
  json?: boolean;
}

/** Redraws a block of lines in place on a terminal. */
class LiveDisplay {
  private shown = 0;
  private last: JobProgress | undefined;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly terminal: Terminal) {
    // Between checks the elapsed time still moves.
    this.ticker = setInterval(() => this.last && this.draw(this.last), 1_000);
    this.ticker.unref();
  }

  draw(progress: JobProgress): void {
    this.last = progress;
    const lines = liveFrame(progress, this.terminal.columns, this.terminal.style);
    const up = this.shown > 0 ? `\u001b[${this.shown}A\r` : "";
    this.terminal.stdout.write(`${up}${lines.map((line) => `\u001b[2K${line}\n`).join("")}\u001b[J`);
    this.shown = lines.length;
  }

  stop(): void {
    clearInterval(this.ticker);
  }
}

/**
 * Waits for a job to finish, showing its progress: a live display per batch and overall on a terminal, one plain
 * line per check otherwise, or one JSON object (JobProgress) per check with --json. Resolves to the exit code: 0
 * completed, 2 finished otherwise; a timeout throws WaitTimeoutError (exit 3), Ctrl-C InterruptedError (130).
 */
export async function watchJob(context: CliContext, jobId: string, settings: WatchSettings): Promise<number> {
  const { terminal } = context;
  const client = await context.client();
  const live = !settings.json && terminal.interactive ? new LiveDisplay(terminal) : undefined;
  const controller = new AbortController();
  const interrupt = () =>
    controller.abort(new InterruptedError(`Stopped watching "${jobId}"; the job goes on at the provider.`));
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  let job: BatchJob;
  try {
    job = await client.waitForBatch(jobId, {
      pollIntervalMs: settings.interval * 1000,
      maxPollIntervalMs: Math.max(settings.interval * 1000, 10 * 60_000),
      ...(settings.timeout === undefined ? {} : { timeoutMs: settings.timeout * 1000 }),
      signal: controller.signal,
      onProgress: (progress) => {
        if (settings.json) void terminal.json(progress);
        else if (live) live.draw(progress);
        else void terminal.line(progressLine(progress));
      },
    });
  } finally {
    live?.stop();
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
  if (job.status === "completed") {
    if (!settings.json) terminal.message(`Job ${jobId} completed. Its results: relay results ${jobId}`);
    return EXIT.ok;
  }
  if (!settings.json) {
    terminal.message(
      `Job ${jobId} ended ${job.status} (exit ${EXIT.notCompleted}). What ran is in: relay results ${jobId}; ` +
        `run the rest again with: relay retry ${jobId}`,
    );
  }
  return EXIT.notCompleted;
}
