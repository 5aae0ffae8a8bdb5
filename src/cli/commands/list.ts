import { Option } from "commander";
import type { RelayClient } from "../../client.js";
import { type JobFilter, newestFirst, recordFilter } from "../../jobs/listing.js";
import { PROVIDER_NAMES } from "../../providers/registry.js";
import type { JobRecord } from "../../workspace/job-record.js";
import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { dateOption, jobStatusOption, jsonOption, listOf } from "../options.js";
import { isoDate, isoTimestamp, money } from "../output/format.js";
import { doneFailedTotal, resultsDeadline } from "../output/job-view.js";
import { statusStyle } from "../output/style.js";
import { renderTable } from "../output/table.js";

/** One job as `relay list --json` prints it; a record that cannot be read has status "corrupt" and its error. */
export interface JobRow {
  jobId: string;
  provider: string | null;
  status: string;
  providerStatus: string | null;
  nRequests: number | null;
  completedRequests: number | null;
  failedRequests: number | null;
  /** The actual cost once results are stored, else the estimate made when the job was planned. */
  costUsd: number | null;
  costKind: "actual" | "estimate" | null;
  submittedAt: string | null;
  finishedAt: string | null;
  resultsStored: boolean;
  /** When the provider stops serving the results (the earliest of the job's batches), if known. */
  resultsExpireAt: string | null;
  description: string | null;
  parentJobId: string | null;
  retryJobIds: string[];
  error: { code: string; message: string } | null;
}

async function rowOf(client: RelayClient, record: JobRecord): Promise<JobRow> {
  const resultsStored = await client.hasResults(record.job_id);
  let costUsd: number | null = null;
  let costKind: JobRow["costKind"] = null;
  if (resultsStored) {
    costUsd = (await client.jobCost(record.job_id)).costUsd;
    costKind = "actual";
  } else if (record.estimated_cost) {
    costUsd = record.estimated_cost.cost_usd;
    costKind = "estimate";
  }
  return {
    jobId: record.job_id,
    provider: record.provider,
    status: record.status,
    providerStatus: record.provider_status,
    nRequests: record.n_requests,
    completedRequests: record.completed_requests,
    failedRequests: record.failed_requests,
    costUsd,
    costKind,
    submittedAt: record.submitted_at,
    finishedAt: record.finished_at,
    resultsStored,
    resultsExpireAt: resultsDeadline(record),
    description: record.description,
    parentJobId: record.parent_job_id ?? null,
    retryJobIds: record.retry_job_ids ?? [],
    error: null,
  };
}

function corruptRow(jobId: string, error: { code: string; message: string }): JobRow {
  return {
    jobId,
    provider: null,
    status: "corrupt",
    providerStatus: null,
    nRequests: null,
    completedRequests: null,
    failedRequests: null,
    costUsd: null,
    costKind: null,
    submittedAt: null,
    finishedAt: null,
    resultsStored: false,
    resultsExpireAt: null,
    description: null,
    parentJobId: null,
    retryJobIds: [],
    error: { code: error.code, message: error.message },
  };
}

export const listCommand: CommandDefinition = {
  name: "list",
  aliases: ["ls"],
  summary: "List the jobs in the workspace, newest first",
  description:
    "A table of the workspace's jobs from their stored records (nothing is asked of the provider; `relay status " +
    "JOB` does). COST is the actual cost once the results are stored, else the estimate made at submission (~). A " +
    "record that cannot be read is listed as corrupt; the others are listed as usual.",
  options: [
    jobStatusOption(),
    new Option(
      "-p, --provider <names>",
      `only jobs of these providers (comma-separated: ${PROVIDER_NAMES.join(", ")})`,
    ).argParser(listOf(PROVIDER_NAMES, "providers")),
    dateOption("--since <date>", "only jobs submitted on or after"),
    dateOption("--until <date>", "only jobs submitted on or before (a date counts to its end)"),
    new Option("--search <text>", "only jobs whose ID or description contains the text (any case)"),
    jsonOption("one JSON array, one object per job"),
  ],
  examples: [
    "relay list",
    "relay list --status in_progress,pending # what is still running",
    "relay list --provider anthropic --since 2026-12-01",
    "relay list --search sentiment --json",
  ],
  jsonOutput:
    "[{ jobId, provider, status, providerStatus, nRequests, completedRequests, failedRequests, costUsd, costKind " +
    '("actual" | "estimate" | null), submittedAt, finishedAt, resultsStored, resultsExpireAt, description, ' +
    'parentJobId, retryJobIds, error }]; a corrupt record has status "corrupt" and error { code, message }',
  async run(context, _args, options) {
    const { terminal } = context;
    const client = await context.client();
    const filter: JobFilter = {
      ...(options.status ? { status: options.status as JobFilter["status"] } : {}),
      ...(options.provider ? { provider: options.provider as JobFilter["provider"] } : {}),
      ...(options.since ? { since: options.since as string } : {}),
      ...(options.until ? { until: options.until as string } : {}),
      ...(options.search ? { search: options.search as string } : {}),
    };
    const matches = recordFilter(filter);
    const listings = await client.scanJobs();
    const records = listings
      .flatMap((listing) => (listing.record && matches(listing.record) ? [listing.record] : []))
      .sort(newestFirst);
    const rows: JobRow[] = [];
    for (const record of records) rows.push(await rowOf(client, record));
    const corrupt = listings.filter((listing) => listing.error);
    for (const listing of corrupt) {
      if (listing.error) rows.push(corruptRow(listing.jobId, listing.error));
    }
    if (options.json) {
      await terminal.jsonDocument(rows);
      return EXIT.ok;
    }
    if (rows.length === 0) {
      terminal.message(listings.length === 0 ? `No jobs in ${client.directory}.` : "No job matches.");
      return EXIT.ok;
    }
    const { style } = terminal;
    const lines = renderTable(
      [
        { header: "ID" },
        { header: "PROVIDER" },
        { header: "STATUS" },
        { header: "DONE/FAILED/TOTAL", align: "right" },
        { header: "COST", align: "right" },
        { header: "SUBMITTED" },
        { header: "RESULTS UNTIL" },
      ],
      rows.map((row) => [
        row.jobId,
        row.provider ?? "-",
        { text: row.status, colour: statusStyle(style, row.status) },
        row.nRequests === null
          ? "-"
          : doneFailedTotal({
              completed_requests: row.completedRequests ?? 0,
              failed_requests: row.failedRequests ?? 0,
              n_requests: row.nRequests,
            }),
        row.costKind === null ? "-" : `${row.costKind === "estimate" ? "~" : ""}${money(row.costUsd)}`,
        isoTimestamp(row.submittedAt),
        row.resultsStored ? "stored" : isoDate(row.resultsExpireAt),
      ]),
      style.bold,
    );
    for (const line of lines) await terminal.line(line);
    for (const listing of corrupt) {
      terminal.warn(`${listing.jobId}: ${listing.error?.message} [${listing.error?.code}]`);
    }
    return EXIT.ok;
  },
};
