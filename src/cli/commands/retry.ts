import { Option } from "commander";
import { DEFAULT_RETRY_STATUSES, RETRYABLE_STATUSES } from "../../jobs/retry.js";
import type { ResultStatus } from "../../types.js";
import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, jobIdOption, jsonOption, listOf, watchOptions } from "../options.js";
import { statusLine } from "../output/format.js";
import { watchJob } from "../watch/watch-job.js";

const RETRYABLE = [...RETRYABLE_STATUSES] as ResultStatus[];

export const retryCommand: CommandDefinition = {
  name: "retry",
  summary: "Run a finished job's failed, expired or cancelled requests again, as a linked follow-up job",
  description:
    "Sends exactly the requests whose results have the given statuses, byte for byte as they were first sent " +
    "(from the workspace), as a new job linked to the first (retry of / retried as, in `relay show`). The results " +
    "of the whole chain: `relay results JOB --merged`. A follow-up can be retried again.",
  arguments: [jobArgument()],
  options: [
    jobIdOption("the follow-up job's ID (default: <job>-retry-<n>)"),
    new Option(
      "--statuses <statuses>",
      `which results to run again (comma-separated: ${RETRYABLE.join(", ")})`,
    )
      .argParser(listOf(RETRYABLE, "result statuses"))
      .default([...DEFAULT_RETRY_STATUSES], DEFAULT_RETRY_STATUSES.join(",")),
    new Option("--description <text>", "the follow-up job's description"),
    new Option("--wait", "wait for the follow-up job to finish, showing its progress (as relay watch)"),
    ...watchOptions(),
    jsonOption("the follow-up job (BatchJob) on one line; with --wait, then one progress object per check"),
  ],
  examples: [
    "relay retry my-job",
    "relay retry my-job --statuses expired --wait # only what expired, and wait for it",
    "relay retry my-job --job my-job-again && relay watch my-job-again",
    "relay results my-job --merged # afterwards: the latest attempt of every request",
  ],
  jsonOutput:
    "JSON lines: the follow-up BatchJob; with --wait, then one JobProgress object per check (as relay watch --json)",
  async run(context, [jobId], options) {
    const { terminal } = context;
    const client = await context.client();
    const job = await client.retryFailed(jobId as string, {
      statuses: options.statuses as ResultStatus[],
      ...(options.job ? { jobId: options.job as string } : {}),
      ...(options.description !== undefined ? { description: options.description as string } : {}),
    });
    if (options.json) await terminal.json(job);
    else {
      terminal.message(`Retrying ${job.nRequests} request(s) of ${jobId} as job ${job.jobId}.`);
      await terminal.line(statusLine(job));
    }
    if (!options.wait) return EXIT.ok;
    return watchJob(context, job.jobId, {
      interval: options.interval as number,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout as number }),
      json: Boolean(options.json),
    });
  },
};
