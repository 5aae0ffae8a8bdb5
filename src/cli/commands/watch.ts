import type { CommandDefinition } from "../define.js";
import { jobArgument, jsonOption, watchOptions } from "../options.js";
import { watchJob } from "../watch/watch-job.js";

export const watchCommand: CommandDefinition = {
  name: "watch",
  aliases: ["wait"],
  summary: "Wait for a job to finish, showing its progress per batch and overall",
  description:
    "Checks the job every --interval seconds (longer while nothing changes, up to 10 minutes) until it has " +
    "finished. On a terminal: a live bar per batch and overall, with counts and an estimate of the time left; a " +
    "batch whose requests have all run but whose results are still being written shows as finalizing, not done. " +
    "Otherwise one line per check. Exits 0 when the job completed, 2 when it ended otherwise (failed, expired, " +
    "cancelled), 3 when --timeout ran out (the job goes on).",
  arguments: [jobArgument()],
  options: [...watchOptions(), jsonOption("one JSON object (JobProgress) per check")],
  examples: [
    "relay watch my-job",
    "relay watch my-job --interval 60 --timeout 3600",
    "relay wait my-job && relay results my-job --format csv --out answers.csv",
    "relay watch my-job --json | jq -c '{status, completed, failed, etaMs}'",
  ],
  jsonOutput:
    "one line per check: { jobId, status, providerStatus, total, completed, failed, remaining, finalizing, shards: " +
    "[{ index, batchId, status, providerStatus, total, completed, failed, remaining, finalizing }], elapsedMs, " +
    "ratePerSecond, etaMs, checkedAt }",
  run(context, [jobId], options) {
    return watchJob(context, jobId as string, {
      interval: options.interval as number,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout as number }),
      json: Boolean(options.json),
    });
  },
};
