import { CorruptWorkspaceError, RelayError, ValidationError } from "../errors.js";
import type { JobStatus, ProviderName } from "../types.js";
import type { JobRecord } from "../workspace/job-record.js";
import type { JobStore } from "./store.js";

/** Which jobs getAllJobs returns; every field narrows, none given returns all. */
export interface JobFilter {
  status?: JobStatus | readonly JobStatus[];
  provider?: ProviderName | readonly ProviderName[];
  /** Submitted at or after: a Date, unix ms, or an ISO-8601 date (`2026-12-01`, from its start, UTC) or timestamp. */
  since?: Date | number | string;
  /** Submitted at or before: as `since`; a bare date counts to its end. */
  until?: Date | number | string;
  /** Case-insensitive text in the job ID or the description. */
  search?: string;
}

/** A job of the workspace: its record, or the error that kept it from being read. */
export interface JobListing {
  jobId: string;
  record: JobRecord | null;
  error: RelayError | null;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A filter bound as unix ms; a bare date is the start of its day (UTC), or its end for `until`. */
export function instantOf(value: Date | number | string, name: string, endOfDay = false): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "number") ms = value;
  else if (DATE_ONLY.test(value)) ms = Date.parse(`${value}T00:00:00Z`) + (endOfDay ? 86_400_000 - 1 : 0);
  else ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new ValidationError(
      `${name} must be a date such as 2026-12-01 or 2026-12-01T12:00:00Z, not ${JSON.stringify(value)}.`,
    );
  }
  return ms;
}

/** A predicate for records, from a filter checked once. */
export function recordFilter(filter: JobFilter): (record: JobRecord) => boolean {
  const list = <T>(value: T | readonly T[] | undefined) =>
    value === undefined ? undefined : new Set(Array.isArray(value) ? value : [value as T]);
  const statuses = list(filter.status);
  const providers = list(filter.provider);
  const since = filter.since === undefined ? undefined : instantOf(filter.since, "since");
  const until = filter.until === undefined ? undefined : instantOf(filter.until, "until", true);
  const search = filter.search?.toLowerCase();
  return (record) => {
    if (statuses && !statuses.has(record.status)) return false;
    if (providers && !providers.has(record.provider)) return false;
    const submitted = Date.parse(record.submitted_at);
    if (since !== undefined && !(submitted >= since)) return false;
    if (until !== undefined && !(submitted <= until)) return false;
    if (search && !`${record.job_id}\n${record.description}`.toLowerCase().includes(search)) return false;
    return true;
  };
}

/** Every job of the workspace, sorted by ID; a record that cannot be read is listed with its error. */
export async function scanJobs(store: JobStore): Promise<JobListing[]> {
  const listings: JobListing[] = [];
  for (const jobId of await store.workspace.listJobIds()) {
    try {
      listings.push({ jobId, record: await store.load(jobId), error: null });
    } catch (error) {
      const relayError =
        error instanceof RelayError
          ? error
          : new CorruptWorkspaceError(store.workspace.recordPath(jobId), (error as Error).message);
      listings.push({ jobId, record: null, error: relayError });
    }
  }
  return listings;
}

/** Newest first, by submission time, then by ID. */
export function newestFirst(a: JobRecord, b: JobRecord): number {
  return b.submitted_at.localeCompare(a.submitted_at) || a.job_id.localeCompare(b.job_id);
}
