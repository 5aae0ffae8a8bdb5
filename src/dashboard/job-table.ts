import type { IndexedJob } from "../jobs/job-index.js";
import { type JobFilter, recordFilter } from "../jobs/listing.js";
import { PROVIDER_NAMES } from "../providers/registry.js";
import type { JobStatus, ProviderName } from "../types.js";
import { HttpError } from "../util/http-server.js";
import type { JobRecord } from "../workspace/job-record.js";

/** A job as one row of the jobs table. */
export interface JobSummary {
  jobId: string;
  corrupt: false;
  provider: ProviderName;
  status: JobStatus;
  providerStatus: string;
  submittedAt: string;
  finishedAt: string | null;
  /** At most DESCRIPTION_LIMIT characters; `descriptionTruncated` says when it was cut. */
  description: string;
  descriptionTruncated: boolean;
  nRequests: number;
  completed: number;
  failed: number;
  shards: number;
  finalizing: boolean;
  resultsStored: boolean;
  /** The earliest time a batch's results stop being downloadable, while they are not stored. */
  resultsExpireAt: string | null;
  parentJobId: string | null;
  followUps: number;
  estimatedCostUsd: number | null;
  /** From the stored results; null when not counted (yet) or not priceable (see costCounted). */
  actualCostUsd: number | null;
  costCounted: boolean;
}

/** A job whose record cannot be read, as a row of its own. */
export interface CorruptSummary {
  jobId: string;
  corrupt: true;
  error: { code: string; message: string };
}

export type TableRow = JobSummary | CorruptSummary;

export const JOB_STATUSES: readonly JobStatus[] = [
  "pending",
  "in_progress",
  "cancelling",
  "completed",
  "failed",
  "expired",
  "cancelled",
];
const CORRUPT = "corrupt";
const DESCRIPTION_LIMIT = 300;
const SORT_KEYS = ["submitted", "id", "status", "provider", "requests", "progress", "cost"] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface TableQuery {
  filter: JobFilter;
  /** Rows of unreadable records: shown unless a status other than "corrupt" or another field narrows. */
  corrupt: boolean;
  sort: SortKey;
  order: "asc" | "desc";
  page: number;
  pageSize: number;
}

/** What one job's actual cost is known to be: undefined while it is not counted. */
export type CostLookup = (entry: IndexedJob) => { costUsd: number | null } | undefined;

export interface TableTotals {
  /** Every job in the workspace. */
  jobs: number;
  /** Jobs per status (and "corrupt") among those matching every filter but the status. */
  byStatus: Record<string, number>;
  /** Over the jobs matching the whole filter. */
  matching: {
    jobs: number;
    requests: number;
    completed: number;
    failed: number;
    estimatedCostUsd: number;
    /** Jobs without an estimate (made before Relay kept one, or models without a price). */
    estimateMissing: number;
    actualCostUsd: number;
    /** Jobs whose results were counted, and of those how many had a model without a price. */
    costCounted: number;
    costUnpriced: number;
    /** Jobs with stored results not counted yet. */
    costPending: number;
  };
}

export interface TablePage {
  version: number;
  page: number;
  pageSize: number;
  pages: number;
  total: number;
  rows: TableRow[];
  totals: TableTotals;
}

function list<T extends string>(
  value: string | null,
  allowed: readonly string[],
  name: string,
): T[] | undefined {
  if (value === null || value.trim() === "") return undefined;
  const items = value.split(",").map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item))
      throw new HttpError(
        400,
        "invalid_filter",
        `${name} must be one of ${allowed.join(", ")}, not "${item}".`,
      );
  }
  return items as T[];
}

function positiveInteger(value: string | null, fallback: number, max: number, name: string): number {
  if (value === null || value === "") return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max)
    throw new HttpError(400, "invalid_page", `${name} must be a whole number from 1 to ${max}.`);
  return number;
}

/** Reads the table's query string: status, provider, since, until, q, sort, order, page, pageSize. */
export function parseTableQuery(params: URLSearchParams): TableQuery {
  const statuses = list<JobStatus | typeof CORRUPT>(
    params.get("status"),
    [...JOB_STATUSES, CORRUPT],
    "status",
  );
  const providers = list<ProviderName>(params.get("provider"), PROVIDER_NAMES, "provider");
  const filter: JobFilter = {};
  const jobStatuses = statuses?.filter((status): status is JobStatus => status !== CORRUPT);
  if (jobStatuses) filter.status = jobStatuses;
  if (providers) filter.provider = providers;
  const since = params.get("since");
  const until = params.get("until");
  if (since) filter.since = since;
  if (until) filter.until = until;
  const search = params.get("q")?.trim();
  if (search) filter.search = search;
  const sort = (params.get("sort") || "submitted") as SortKey;
  if (!SORT_KEYS.includes(sort))
    throw new HttpError(400, "invalid_sort", `sort must be one of ${SORT_KEYS.join(", ")}.`);
  const order = params.get("order") || (sort === "submitted" || sort === "cost" ? "desc" : "asc");
  if (order !== "asc" && order !== "desc")
    throw new HttpError(400, "invalid_sort", "order must be asc or desc.");
  return {
    filter,
    corrupt: (statuses === undefined || statuses.includes(CORRUPT)) && !providers && !since && !until,
    sort,
    order,
    page: positiveInteger(params.get("page"), 1, 1_000_000, "page"),
    pageSize: positiveInteger(params.get("pageSize"), 50, 500, "pageSize"),
  };
}

/** The earliest results deadline of a job whose results are not stored yet. */
function resultsDeadline(record: JobRecord, resultsStored: boolean): string | null {
  if (resultsStored) return null;
  let earliest: string | null = null;
  for (const shard of record.shards) {
    const at = shard.results_expire_at;
    if (at && (earliest === null || at < earliest)) earliest = at;
  }
  return earliest;
}

const summaries = new WeakMap<IndexedJob, Omit<JobSummary, "actualCostUsd" | "costCounted">>();

function baseSummary(
  entry: IndexedJob,
  record: JobRecord,
): Omit<JobSummary, "actualCostUsd" | "costCounted"> {
  let summary = summaries.get(entry);
  if (!summary) {
    const resultsStored = entry.stamps.results !== null;
    const description = typeof record.description === "string" ? record.description : "";
    summary = {
      jobId: record.job_id,
      corrupt: false,
      provider: record.provider,
      status: record.status,
      providerStatus: record.provider_status,
      submittedAt: record.submitted_at,
      finishedAt: record.finished_at,
      description: description.slice(0, DESCRIPTION_LIMIT),
      descriptionTruncated: description.length > DESCRIPTION_LIMIT,
      nRequests: record.n_requests,
      completed: record.completed_requests,
      failed: record.failed_requests,
      shards: record.shards.length,
      finalizing: record.shards.some((shard) => /finaliz/i.test(shard.provider_status ?? "")),
      resultsStored,
      resultsExpireAt: resultsDeadline(record, resultsStored),
      parentJobId: record.parent_job_id ?? null,
      followUps: record.retry_job_ids?.length ?? 0,
      estimatedCostUsd: record.estimated_cost?.cost_usd ?? null,
    };
    summaries.set(entry, summary);
  }
  return summary;
}

export function summarise(entry: IndexedJob, costs: CostLookup): TableRow {
  if (!entry.record) {
    return {
      jobId: entry.jobId,
      corrupt: true,
      error: {
        code: entry.error?.code ?? "corrupt_workspace",
        message: entry.error?.message ?? "unreadable",
      },
    };
  }
  const cost = entry.stamps.results ? costs(entry) : undefined;
  return {
    ...baseSummary(entry, entry.record),
    actualCostUsd: cost?.costUsd ?? null,
    costCounted: cost !== undefined,
  };
}

const STATUS_ORDER = new Map<JobStatus, number>(
  (["in_progress", "pending", "cancelling", "failed", "expired", "cancelled", "completed"] as const).map(
    (status, index) => [status, index],
  ),
);

type Comparable = string | number;
const compare = (a: Comparable, b: Comparable) => (a < b ? -1 : a > b ? 1 : 0);

function sortValue(key: SortKey, record: JobRecord, cost: number | null): Comparable {
  switch (key) {
    case "submitted":
      return record.submitted_at;
    case "id":
      return record.job_id;
    case "status":
      return STATUS_ORDER.get(record.status) ?? 99;
    case "provider":
      return record.provider;
    case "requests":
      return record.n_requests;
    case "progress":
      return record.n_requests === 0
        ? 0
        : (record.completed_requests + record.failed_requests) / record.n_requests;
    case "cost":
      return cost ?? -1;
  }
}

/** One page of the jobs table, with totals, from the index's entries (sorted by ID). */
export function jobTable(
  entries: readonly IndexedJob[],
  query: TableQuery,
  costs: CostLookup,
  version: number,
): TablePage {
  const matches = recordFilter(query.filter);
  const { status: _status, ...withoutStatus } = query.filter;
  const matchesButStatus = recordFilter(withoutStatus);
  const search = query.filter.search?.toLowerCase();
  const byStatus: Record<string, number> = Object.fromEntries(
    [...JOB_STATUSES, CORRUPT].map((status) => [status, 0]),
  );
  const matching: TableTotals["matching"] = {
    jobs: 0,
    requests: 0,
    completed: 0,
    failed: 0,
    estimatedCostUsd: 0,
    estimateMissing: 0,
    actualCostUsd: 0,
    costCounted: 0,
    costUnpriced: 0,
    costPending: 0,
  };
  const corrupt: IndexedJob[] = [];
  let rows: { entry: IndexedJob; record: JobRecord; cost: number | null }[] = [];
  for (const entry of entries) {
    const record = entry.record;
    if (!record) {
      const shown = !search || entry.jobId.toLowerCase().includes(search);
      if (shown && !query.filter.provider && !query.filter.since && !query.filter.until)
        byStatus[CORRUPT] = (byStatus[CORRUPT] ?? 0) + 1;
      if (shown && query.corrupt) corrupt.push(entry);
      continue;
    }
    if (!matchesButStatus(record)) continue;
    byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
    if (!matches(record)) continue;
    const cost = entry.stamps.results ? costs(entry) : undefined;
    matching.jobs += 1;
    matching.requests += record.n_requests;
    matching.completed += record.completed_requests;
    matching.failed += record.failed_requests;
    const estimate = record.estimated_cost?.cost_usd;
    if (typeof estimate === "number") matching.estimatedCostUsd += estimate;
    else matching.estimateMissing += 1;
    if (cost) {
      matching.costCounted += 1;
      if (cost.costUsd === null) matching.costUnpriced += 1;
      else matching.actualCostUsd += cost.costUsd;
    } else if (entry.stamps.results) matching.costPending += 1;
    // Sorted by cost: what it cost where counted, else what it was estimated to cost.
    rows.push({ entry, record, cost: cost?.costUsd ?? estimate ?? null });
  }
  if (query.sort !== "id" || query.order !== "asc") {
    const sign = query.order === "asc" ? 1 : -1;
    const keyed = rows.map((row) => ({ row, value: sortValue(query.sort, row.record, row.cost) }));
    keyed.sort((a, b) => sign * compare(a.value, b.value) || compare(a.row.entry.jobId, b.row.entry.jobId));
    rows = keyed.map((item) => item.row);
  }
  // Unreadable records come first, so that they are seen.
  const ordered: IndexedJob[] = [...corrupt, ...rows.map((row) => row.entry)];
  const total = ordered.length;
  const pages = Math.max(1, Math.ceil(total / query.pageSize));
  const page = Math.min(query.page, pages);
  const slice = ordered.slice((page - 1) * query.pageSize, page * query.pageSize);
  return {
    version,
    page,
    pageSize: query.pageSize,
    pages,
    total,
    rows: slice.map((entry) => summarise(entry, costs)),
    totals: { jobs: entries.length, byStatus, matching },
  };
}
