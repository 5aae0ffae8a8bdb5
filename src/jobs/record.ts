import { randomBytes } from "node:crypto";
import { CorruptWorkspaceError } from "../errors.js";
import type { ProviderEntry } from "../providers/registry.js";
import { type BatchJob, isFinished, type JobStatus, type ProviderName, type RequestKind } from "../types.js";
import {
  type JobRecord,
  newShardRecord,
  nowIso,
  RECORD_FORMAT,
  type ShardRecord,
  type StoredCostEstimate,
} from "../workspace/job-record.js";
import type { Workspace } from "../workspace/workspace.js";
import type { PlannedShard } from "./plan.js";
import { aggregateProviderStatus, aggregateStatus } from "./status.js";

const JOB_STATUSES = new Set<JobStatus>([
  "pending",
  "in_progress",
  "completed",
  "failed",
  "expired",
  "cancelling",
  "cancelled",
]);

function toIsoUtc(value: unknown): string {
  if (typeof value === "number") return new Date(value * 1000).toISOString();
  if (typeof value !== "string") return nowIso();
  // The Python Relay wrote naive local timestamps; read them as UTC, the best guess without the writer's zone.
  const hasZone = /[zZ]|[+-]\d\d:?\d\d$/.test(value);
  const parsed = new Date(hasZone ? value : `${value}Z`);
  return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString();
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Whether a stored shard has the fields every step relies on (an index, counts, a state and a known status). */
function isShardRecord(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const shard = value as Record<string, unknown>;
  return (
    Number.isInteger(shard.index) &&
    Number.isInteger(shard.n_requests) &&
    typeof shard.completed_requests === "number" &&
    typeof shard.failed_requests === "number" &&
    typeof shard.state === "string" &&
    JOB_STATUSES.has(shard.status as JobStatus)
  );
}

/**
 * Reads a stored record as a JobRecord. Records of the Python Relay (no `relay_format`) are upgraded in memory:
 * one shard holding `provider_job_id`, its raw status normalised.
 */
export function parseJobRecord(
  raw: Record<string, unknown>,
  path: string,
  providerOf: (name: unknown) => ProviderEntry<ProviderName>,
): JobRecord {
  if (typeof raw.job_id !== "string") throw new CorruptWorkspaceError(path, "job_id is missing");
  if (raw.relay_format !== undefined) {
    if (raw.relay_format !== RECORD_FORMAT) {
      throw new CorruptWorkspaceError(
        path,
        `relay_format ${String(raw.relay_format)} is not one this version reads`,
      );
    }
    if (!Array.isArray(raw.shards) || !JOB_STATUSES.has(raw.status as JobStatus)) {
      throw new CorruptWorkspaceError(path, "shards or status missing");
    }
    const broken = raw.shards.findIndex((shard) => !isShardRecord(shard));
    if (broken !== -1) throw new CorruptWorkspaceError(path, `shard ${broken + 1} is not a shard record`);
    return raw as unknown as JobRecord;
  }
  const entry = providerOf(raw.provider);
  const providerStatus = typeof raw.status === "string" ? raw.status : "unknown";
  const status = entry.normaliseStatus(providerStatus);
  const submittedAt = toIsoUtc(raw.submitted_at);
  const batchId = typeof raw.provider_job_id === "string" ? raw.provider_job_id : null;
  const shard = newShardRecord({
    index: 0,
    model: null,
    n_requests: count(raw.n_requests),
    bytes: 0,
    estimated_tokens: 0,
    state: batchId ? "created" : "create_failed",
    provider_batch_id: batchId,
    status,
    provider_status: providerStatus,
    completed_requests: count(raw.completed_requests),
    failed_requests: count(raw.failed_requests),
    updated_at: submittedAt,
  });
  return {
    job_id: raw.job_id,
    provider_job_id: batchId,
    provider: entry.name,
    submitted_at: submittedAt,
    status,
    n_requests: count(raw.n_requests),
    completed_requests: count(raw.completed_requests),
    failed_requests: count(raw.failed_requests),
    description: typeof raw.description === "string" ? raw.description : "",
    relay_format: RECORD_FORMAT,
    provider_status: providerStatus,
    submission_id: "",
    requests_digest: "",
    endpoint: null,
    created_at: submittedAt,
    updated_at: submittedAt,
    finished_at: null,
    shards: [shard],
  };
}

/** The record of a job just planned: every shard waiting to be sent. */
export function newJobRecord(options: {
  jobId: string;
  provider: ProviderName;
  description: string;
  endpoint: string | null;
  plan: { shards: readonly PlannedShard[]; nRequests: number; digest: string };
  parentJobId?: string | undefined;
  estimatedCost?: StoredCostEstimate | null;
  kind?: RequestKind;
}): JobRecord {
  const now = nowIso();
  return {
    job_id: options.jobId,
    provider_job_id: null,
    provider: options.provider,
    submitted_at: now,
    status: "pending",
    n_requests: options.plan.nRequests,
    completed_requests: 0,
    failed_requests: 0,
    description: options.description,
    relay_format: RECORD_FORMAT,
    provider_status: "",
    submission_id: randomBytes(8).toString("hex"),
    requests_digest: options.plan.digest,
    endpoint: options.endpoint,
    kind: options.kind ?? "chat",
    created_at: now,
    updated_at: now,
    finished_at: null,
    parent_job_id: options.parentJobId ?? null,
    retry_job_ids: [],
    estimated_cost: options.estimatedCost ?? null,
    shards: options.plan.shards.map((shard) =>
      newShardRecord({
        index: shard.index,
        model: shard.model,
        n_requests: shard.nRequests,
        bytes: shard.bytes,
        estimated_tokens: shard.tokens,
        updated_at: now,
      }),
    ),
  };
}

/** Recomputes the job-level fields from the shards. */
export function refreshAggregate(record: JobRecord): void {
  record.status = aggregateStatus(record.shards);
  record.provider_status = aggregateProviderStatus(record.shards);
  record.completed_requests = record.shards.reduce((sum, shard) => sum + shard.completed_requests, 0);
  record.failed_requests = record.shards.reduce((sum, shard) => sum + shard.failed_requests, 0);
  record.provider_job_id = record.shards[0]?.provider_batch_id ?? null;
  if (isFinished(record.status)) record.finished_at ??= nowIso();
  else record.finished_at = null;
}

export function toBatchJob(record: JobRecord): BatchJob {
  return {
    jobId: record.job_id,
    provider: record.provider as ProviderName,
    submittedAt: record.submitted_at,
    status: record.status,
    providerStatus: record.provider_status,
    nRequests: record.n_requests,
    completedRequests: record.completed_requests,
    failedRequests: record.failed_requests,
    description: record.description,
    providerBatchIds: record.shards.map((shard) => shard.provider_batch_id),
  };
}

/** Every provider batch ID a record holds, current and of earlier attempts. */
export function batchIdsOf(record: JobRecord): Set<string> {
  const ids = new Set<string>();
  for (const shard of record.shards) {
    if (shard.provider_batch_id) ids.add(shard.provider_batch_id);
    for (const id of shard.previous_batch_ids ?? []) ids.add(id);
  }
  return ids;
}

/** A job record being worked on: every change is saved atomically, one write at a time. */
export class JobHandle {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    readonly workspace: Workspace,
    readonly record: JobRecord,
    /** Batch IDs recorded in the workspace; by default those of this job. */
    readonly knownBatchIds: () => Promise<ReadonlySet<string>> = async () => batchIdsOf(record),
  ) {}

  save(): Promise<void> {
    refreshAggregate(this.record);
    this.record.updated_at = nowIso();
    const snapshot = JSON.parse(JSON.stringify(this.record)) as JobRecord;
    const write = this.pending.then(() => this.workspace.writeRecord(this.record.job_id, snapshot));
    this.pending = write.catch(() => {});
    return write;
  }

  shard(index: number): ShardRecord {
    const shard = this.record.shards[index];
    if (!shard) throw new Error(`job ${this.record.job_id} has no shard ${index}`);
    return shard;
  }
}
