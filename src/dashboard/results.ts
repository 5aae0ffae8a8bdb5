import type { RelayClient } from "../client.js";
import type { IndexedJob, JobIndex } from "../jobs/job-index.js";
import { readStoredResults } from "../jobs/retrieval.js";
import type { JobStore } from "../jobs/store.js";
import { type BatchResult, RESULT_STATUSES, type ResultStatus } from "../types.js";
import { HttpError } from "../util/http-server.js";

/** Where a job's results are read from: its own stored results, or those of its retry chain merged. */
export interface ResultsSource {
  /** Changes whenever any results file read changes. */
  key: string;
  open(): AsyncIterable<BatchResult>;
}

const STATUS_CODES = new Map<string, number>(RESULT_STATUSES.map((status, index) => [status, index]));

/** Every result's status, by position: what paging, filters and problems-first order need, one byte a result. */
interface ResultsSummary {
  total: number;
  counts: Record<ResultStatus, number>;
  statuses: Uint8Array;
}

export interface ResultsQuery {
  offset: number;
  limit: number;
  /** Failed, expired and cancelled first, each group in request order. */
  problemsFirst: boolean;
  status: ResultStatus[] | null;
  /** Case-insensitive text in the ID, the output text or the error message. */
  search: string | null;
  merged: boolean;
}

export interface ResultRow {
  /** Place in request order (0-based). */
  position: number;
  id: string;
  status: ResultStatus;
  text: string | null;
  textLength: number;
  /** What else the result holds, in short: its structured output, tool calls or embedding. */
  detail: string | null;
  finishReason: string | null;
  error: { code?: string; message: string } | null;
  usage: BatchResult["usage"] | null;
  model: string | null;
  attempt: BatchResult["attempt"] | null;
}

export interface ResultsPage {
  stored: true;
  total: number;
  counts: Record<ResultStatus, number>;
  offset: number;
  limit: number;
  rows: ResultRow[];
}

const TEXT_LIMIT = 600;
const CACHE_SIZE = 8;

/** A line about what a result holds beside its text. */
function detailOf(result: BatchResult): string | null {
  if (result.json !== undefined) return `JSON: ${JSON.stringify(result.json).slice(0, TEXT_LIMIT)}`;
  if (result.toolCalls?.length) return `tool calls: ${result.toolCalls.map((call) => call.name).join(", ")}`;
  if (result.embedding) return `embedding of ${result.embedding.length} numbers`;
  return null;
}

function row(result: BatchResult, position: number): ResultRow {
  const text = typeof result.text === "string" ? result.text : null;
  return {
    position,
    id: result.id,
    status: result.status,
    text: text === null ? null : text.slice(0, TEXT_LIMIT),
    textLength: text?.length ?? 0,
    detail: detailOf(result),
    finishReason: result.finishReason ?? null,
    error: result.error ?? null,
    usage: result.usage ?? null,
    model: result.model ?? null,
    attempt: result.attempt ?? null,
  };
}

function matchesSearch(result: BatchResult, needle: string): boolean {
  return (
    result.id.toLowerCase().includes(needle) ||
    (typeof result.text === "string" && result.text.toLowerCase().includes(needle)) ||
    (result.error?.message?.toLowerCase().includes(needle) ?? false)
  );
}

/** A small least-recently-used map. */
class Recent<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
}

/**
 * Pages of a job's stored results, read as a stream from the workspace and never fetched from the provider (reading
 * changes nothing). The first look at a results file records every result's status (one byte each), so that
 * pages, counts and the problems-first order need no second full read; a page reads the file only up to its last row.
 */
export class ResultsReader {
  private readonly summaries = new Recent<Promise<ResultsSummary>>(CACHE_SIZE);
  private readonly searches = new Recent<Promise<Uint32Array>>(CACHE_SIZE);

  constructor(
    private readonly client: RelayClient,
    private readonly store: JobStore,
    private readonly index: JobIndex,
  ) {}

  /** The source of a job's results, or the reason there is none yet. */
  async source(entry: IndexedJob, merged: boolean): Promise<ResultsSource | { unavailable: string }> {
    if (!entry.record) return { unavailable: "The job's record cannot be read." };
    if (!merged) {
      if (!entry.stamps.results) return { unavailable: "The results are not in the workspace yet." };
      const stamp = entry.stamps.results;
      return {
        key: `${entry.jobId}@${stamp.mtimeMs}:${stamp.size}:${stamp.ino}`,
        open: () => readStoredResults(this.store, entry.jobId),
      };
    }
    const parts: string[] = [];
    const pending = [entry];
    while (pending.length > 0) {
      const job = pending.shift() as IndexedJob;
      if (!job.record)
        return { unavailable: `The record of ${job.jobId} in the retry chain cannot be read.` };
      const stamp = job.stamps.results;
      if (!stamp)
        return {
          unavailable: `The results of ${job.jobId} in the retry chain are not in the workspace yet.`,
        };
      parts.push(`${job.jobId}@${stamp.mtimeMs}:${stamp.size}:${stamp.ino}`);
      for (const childId of job.record.retry_job_ids ?? []) {
        const child = this.index.get(childId);
        if (child) pending.push(child);
        // A follow-up whose creation never finished has no record, and nothing to lay over; one the index has
        // not read yet does.
        else if ((await this.store.workspace.stampsOf(childId)).record)
          return {
            unavailable: `The results of ${childId} in the retry chain are not in the workspace yet.`,
          };
      }
    }
    return {
      key: `merged:${parts.join(",")}`,
      open: () => this.client.streamResults(entry.jobId, { merged: true }),
    };
  }

  async page(source: ResultsSource, query: ResultsQuery): Promise<ResultsPage> {
    const summary = await this.summary(source);
    const selection = await this.selection(source, summary, query);
    const total = selection ? selection.length : summary.total;
    const start = Math.min(query.offset, total);
    const end = Math.min(start + query.limit, total);
    const positions: number[] = [];
    for (let at = start; at < end; at += 1) positions.push(selection ? (selection[at] as number) : at);
    const found = await this.readPositions(source, positions);
    return {
      stored: true,
      total,
      counts: summary.counts,
      offset: start,
      limit: query.limit,
      rows: positions.flatMap((position) => {
        const result = found.get(position);
        return result ? [row(result, position)] : [];
      }),
    };
  }

  /** One result, whole (with the provider's raw record), by its place in request order. */
  async one(source: ResultsSource, position: number): Promise<BatchResult | null> {
    return (await this.readPositions(source, [position])).get(position) ?? null;
  }

  private summary(source: ResultsSource): Promise<ResultsSummary> {
    let summary = this.summaries.get(source.key);
    if (!summary) {
      summary = this.summarise(source);
      summary.catch(() => {});
      this.summaries.set(source.key, summary);
    }
    return summary;
  }

  private async summarise(source: ResultsSource): Promise<ResultsSummary> {
    const counts = Object.fromEntries(RESULT_STATUSES.map((status) => [status, 0])) as Record<
      ResultStatus,
      number
    >;
    let statuses = new Uint8Array(1024);
    let total = 0;
    for await (const result of source.open()) {
      if (total === statuses.length) {
        const grown = new Uint8Array(statuses.length * 2);
        grown.set(statuses);
        statuses = grown;
      }
      statuses[total] = STATUS_CODES.get(result.status) ?? 1;
      counts[result.status] = (counts[result.status] ?? 0) + 1;
      total += 1;
    }
    return { total, counts, statuses: statuses.subarray(0, total) };
  }

  /** The positions a query selects, in its order; null for every result in request order. */
  private async selection(
    source: ResultsSource,
    summary: ResultsSummary,
    query: ResultsQuery,
  ): Promise<Uint32Array | null> {
    if (!query.search && !query.status && !query.problemsFirst) return null;
    let candidates: Uint32Array;
    if (query.search) {
      const key = `${source.key}\n${query.search.toLowerCase()}`;
      let found = this.searches.get(key);
      if (!found) {
        found = this.search(source, query.search.toLowerCase());
        found.catch(() => {});
        this.searches.set(key, found);
      }
      candidates = await found;
    } else {
      candidates = new Uint32Array(summary.total);
      for (let position = 0; position < summary.total; position += 1) candidates[position] = position;
    }
    const wanted = query.status ? new Set(query.status.map((status) => STATUS_CODES.get(status))) : null;
    const chosen: number[] = [];
    const succeeded = STATUS_CODES.get("succeeded");
    for (const pass of query.problemsFirst ? ["problems", "succeeded"] : ["all"]) {
      for (const position of candidates) {
        const code = summary.statuses[position];
        if (wanted && !wanted.has(code)) continue;
        if (pass === "problems" && code === succeeded) continue;
        if (pass === "succeeded" && code !== succeeded) continue;
        chosen.push(position);
      }
    }
    return Uint32Array.from(chosen);
  }

  private async search(source: ResultsSource, needle: string): Promise<Uint32Array> {
    const matches: number[] = [];
    let position = 0;
    for await (const result of source.open()) {
      if (matchesSearch(result, needle)) matches.push(position);
      position += 1;
    }
    return Uint32Array.from(matches);
  }

  /** The results at these positions, reading the stream only as far as the last of them. */
  private async readPositions(
    source: ResultsSource,
    positions: readonly number[],
  ): Promise<Map<number, BatchResult>> {
    const found = new Map<number, BatchResult>();
    if (positions.length === 0) return found;
    const wanted = new Set(positions);
    const last = Math.max(...positions);
    let position = 0;
    const stream = source.open()[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await stream.next();
        if (next.done) break;
        if (wanted.has(position)) found.set(position, next.value);
        if (position >= last) break;
        position += 1;
      }
    } finally {
      await stream.return?.();
    }
    return found;
  }
}

/** Reads the results view's query string: offset, limit, problems, status, q, merged. */
export function parseResultsQuery(params: URLSearchParams): ResultsQuery {
  const number = (name: string, fallback: number, max: number) => {
    const value = params.get(name);
    if (value === null || value === "") return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > max)
      throw new HttpError(400, "invalid_page", `${name} must be a whole number from 0 to ${max}.`);
    return parsed;
  };
  const statusText = params.get("status");
  let status: ResultStatus[] | null = null;
  if (statusText) {
    status = statusText.split(",").map((item) => item.trim()) as ResultStatus[];
    for (const item of status) {
      if (!STATUS_CODES.has(item))
        throw new HttpError(400, "invalid_filter", `status must be one of ${RESULT_STATUSES.join(", ")}.`);
    }
  }
  const flag = (name: string) => params.get(name) === "1" || params.get(name) === "true";
  return {
    offset: number("offset", 0, 1e9),
    limit: Math.max(1, number("limit", 50, 500)),
    problemsFirst: flag("problems"),
    status,
    search: params.get("q")?.trim() || null,
    merged: flag("merged"),
  };
}
