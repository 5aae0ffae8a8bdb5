import type { IndexedJob } from "../jobs/job-index.js";
import { instantOf, type JobFilter } from "../jobs/listing.js";
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

/**
 * What filtering, sorting and totals read of a job, made once per version of its record: one small object per job
 * instead of its whole record (a pass over ten thousand records is bound by memory, not by the comparisons).
 */
interface Facts {
  entry: IndexedJob;
  jobId: string;
  status: JobStatus;
  provider: string;
  submittedAt: string;
  submittedMs: number;
  /** The ID and the description, lower case, for the text filter. */
  text: string;
  requests: number;
  completed: number;
  failed: number;
  estimate: number | null;
  hasResults: boolean;
}

const factsCache = new WeakMap<IndexedJob, Facts>();

function factsOf(entry: IndexedJob & { record: JobRecord }): Facts {
  let facts = factsCache.get(entry);
  if (!facts) {
    const record = entry.record;
    const estimate = record.estimated_cost?.cost_usd;
    facts = {
      entry,
      jobId: record.job_id,
      status: record.status,
      provider: record.provider,
      submittedAt: record.submitted_at,
      submittedMs: Date.parse(record.submitted_at),
      text: `${record.job_id}\n${typeof record.description === "string" ? record.description : ""}`.toLowerCase(),
      requests: record.n_requests,
      completed: record.completed_requests,
      failed: record.failed_requests,
      estimate: typeof estimate === "number" ? estimate : null,
      hasResults: entry.stamps.results !== null,
    };
    factsCache.set(entry, facts);
  }
  return facts;
}

/** recordFilter (jobs/listing.ts) over a job's facts: the same bounds, the same tests. */
function factsFilter(filter: JobFilter): (facts: Facts) => boolean {
  const set = <T>(value: T | readonly T[] | undefined) =>
    value === undefined ? undefined : new Set<T>(Array.isArray(value) ? value : [value as T]);
  const statuses = set(filter.status);
  const providers = set<string>(filter.provider);
  const since = filter.since === undefined ? undefined : instantOf(filter.since, "since");
  const until = filter.until === undefined ? undefined : instantOf(filter.until, "until", true);
  const search = filter.search?.toLowerCase();
  return (facts) =>
    (!statuses || statuses.has(facts.status)) &&
    (!providers || providers.has(facts.provider)) &&
    (since === undefined || facts.submittedMs >= since) &&
    (until === undefined || facts.submittedMs <= until) &&
    (!search || facts.text.includes(search));
}

function sortValue(key: SortKey, facts: Facts, costs: CostLookup): Comparable {
  switch (key) {
    case "submitted":
      return facts.submittedAt;
    case "id":
      return facts.jobId;
    case "status":
      return STATUS_ORDER.get(facts.status) ?? 99;
    case "provider":
      return facts.provider;
    case "requests":
      return facts.requests;
    case "progress":
      return facts.requests === 0 ? 0 : (facts.completed + facts.failed) / facts.requests;
    case "cost":
      // What it cost where counted, else what it was estimated to cost.
      return (facts.hasResults ? costs(facts.entry)?.costUsd : undefined) ?? facts.estimate ?? -1;
  }
}

/**
 * The readable jobs in each order asked for, kept while the index does not change (and, sorted by cost, while no
 * cost is newly counted): a page of a large table then costs one filtering pass, not a sort.
 */
export class TableOrders {
  private readonly orders = new Map<string, readonly Facts[]>();
  private unreadableEntries: readonly IndexedJob[] | null = null;
  private stamp = -1;

  /** The entries whose record cannot be read. */
  unreadable(entries: readonly IndexedJob[], versions: { index: number }): readonly IndexedJob[] {
    this.expire(versions.index);
    this.unreadableEntries ??= entries.filter((entry) => !entry.record);
    return this.unreadableEntries;
  }

  private expire(version: number): void {
    if (this.stamp === version) return;
    this.orders.clear();
    this.unreadableEntries = null;
    this.stamp = version;
  }

  sorted(
    entries: readonly IndexedJob[],
    query: Pick<TableQuery, "sort" | "order">,
    costs: CostLookup,
    versions: { index: number; costs: number },
  ): readonly Facts[] {
    this.expire(versions.index);
    const key = `${query.sort}:${query.order}${query.sort === "cost" ? `:${versions.costs}` : ""}`;
    let sorted = this.orders.get(key);
    if (!sorted) {
      const readable = entries.flatMap((entry) =>
        entry.record ? [factsOf(entry as IndexedJob & { record: JobRecord })] : [],
      );
      if (query.sort === "id" && query.order === "asc") sorted = readable;
      else {
        const sign = query.order === "asc" ? 1 : -1;
        const keyed = readable.map((facts) => ({ facts, value: sortValue(query.sort, facts, costs) }));
        keyed.sort((a, b) => sign * compare(a.value, b.value) || compare(a.facts.jobId, b.facts.jobId));
        sorted = keyed.map((item) => item.facts);
      }
      // Sorted by cost, an order per cost version: only the latest few are worth keeping.
      if (this.orders.size > 16) this.orders.clear();
      this.orders.set(key, sorted);
    }
    return sorted;
  }
}

/** One page of the jobs table, with totals, from the index's entries (sorted by ID). */
export function jobTable(
  entries: readonly IndexedJob[],
  query: TableQuery,
  costs: CostLookup,
  versions: { index: number; costs: number },
  orders: TableOrders = new TableOrders(),
): TablePage {
  const matches = factsFilter(query.filter);
  const { status: _status, ...withoutStatus } = query.filter;
  const matchesButStatus = factsFilter(withoutStatus);
  const search = query.filter.search?.toLowerCase();
  const byStatus = new Map<string, number>([...JOB_STATUSES, CORRUPT].map((status) => [status, 0]));
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
  // Unreadable records come first, so that they are seen.
  const ordered: IndexedJob[] = [];
  for (const entry of orders.unreadable(entries, versions)) {
    const shown = !search || entry.jobId.toLowerCase().includes(search);
    if (shown && !query.filter.provider && !query.filter.since && !query.filter.until)
      byStatus.set(CORRUPT, (byStatus.get(CORRUPT) ?? 0) + 1);
    if (shown && query.corrupt) ordered.push(entry);
  }
  for (const facts of orders.sorted(entries, query, costs, versions)) {
    if (!matchesButStatus(facts)) continue;
    byStatus.set(facts.status, (byStatus.get(facts.status) ?? 0) + 1);
    if (!matches(facts)) continue;
    matching.jobs += 1;
    matching.requests += facts.requests;
    matching.completed += facts.completed;
    matching.failed += facts.failed;
    if (facts.estimate !== null) matching.estimatedCostUsd += facts.estimate;
    else matching.estimateMissing += 1;
    if (facts.hasResults) {
      const cost = costs(facts.entry);
      if (!cost) matching.costPending += 1;
      else {
        matching.costCounted += 1;
        if (cost.costUsd === null) matching.costUnpriced += 1;
        else matching.actualCostUsd += cost.costUsd;
      }
    }
    ordered.push(facts.entry);
  }
  const total = ordered.length;
  const pages = Math.max(1, Math.ceil(total / query.pageSize));
  const page = Math.min(query.page, pages);
  const slice = ordered.slice((page - 1) * query.pageSize, page * query.pageSize);
  return {
    version: versions.index,
    page,
    pageSize: query.pageSize,
    pages,
    total,
    rows: slice.map((entry) => summarise(entry, costs)),
    totals: { jobs: entries.length, byStatus: Object.fromEntries(byStatus), matching },
  };
}
