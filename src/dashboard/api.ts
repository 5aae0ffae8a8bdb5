import type { IncomingMessage, ServerResponse } from "node:http";
import type { RelayClient } from "../client.js";
import { RelayError, ValidationError } from "../errors.js";
import type { IndexedJob, JobIndex } from "../jobs/job-index.js";
import { PROVIDER_NAMES } from "../providers/registry.js";
import { isFinished, RESULT_STATUSES, type ResultStatus } from "../types.js";
import { HttpError, Router, readBody } from "../util/http-server.js";
import { assertValidJobId } from "../workspace/job-id.js";
import type { JobRecord } from "../workspace/job-record.js";
import type { CostCache } from "./costs.js";
import { type DownloadFormat, sendResultsFile } from "./downloads.js";
import type { EventHub } from "./events.js";
import type { ProgressHistory } from "./history.js";
import { jobDetail } from "./job-detail.js";
import { JOB_STATUSES, jobTable, parseTableQuery, type TableOrders } from "./job-table.js";
import type { ProviderPoller } from "./poller.js";
import { parseResultsQuery, type ResultsReader, type ResultsSource } from "./results.js";

/** Everything the API reads from and acts through. */
export interface DashboardState {
  directory: string;
  client: RelayClient;
  index: JobIndex;
  costs: CostCache;
  results: ResultsReader;
  history: ProgressHistory;
  poller: ProviderPoller | null;
  events: EventHub;
  /** The jobs table's sorted orders, kept between requests. */
  orders: TableOrders;
  readOnly: boolean;
  sessionToken: string;
  pollIntervalMs: number;
  /** Brings the index up to date and tells the pages what changed. */
  sync(): Promise<void>;
  /** Sends a JSON answer (with any known secret taken out). */
  send(response: ServerResponse, status: number, value: unknown): void;
}

export interface ApiContext {
  request: IncomingMessage;
  response: ServerResponse;
  params: Record<string, string>;
  url: URL;
  state: DashboardState;
}

type ApiHandler = (context: ApiContext) => Promise<void> | void;

/** How long a job view waits for its cost to be counted before answering without it. */
const COST_WAIT_MS = 1_500;

const STATUS_BY_CODE: Record<string, number> = {
  job_not_found: 404,
  job_not_finished: 409,
  job_exists: 409,
  job_locked: 409,
  nothing_to_retry: 409,
  not_retryable: 409,
  results_not_stored: 409,
  missing_api_key: 409,
  corrupt_workspace: 409,
  workspace_not_writable: 409,
};

/** The HTTP status for a Relay error: bad input 400, provider trouble 502, a state that forbids it 409. */
export function httpStatusOf(error: RelayError): number {
  if (error instanceof ValidationError) return 400;
  if (
    error.code.startsWith("provider_") ||
    error.code === "create_incomplete" ||
    error.code === "key_refused"
  )
    return 502;
  return STATUS_BY_CODE[error.code] ?? 500;
}

function jobIdParam(params: Record<string, string>): string {
  const jobId = params.id;
  try {
    assertValidJobId(jobId);
  } catch (error) {
    throw new HttpError(400, "invalid_job_id", (error as Error).message);
  }
  return jobId;
}

/** The job's index entry, read; 404 when there is none. */
async function entryOf(context: ApiContext): Promise<IndexedJob> {
  const jobId = jobIdParam(context.params);
  await context.state.sync();
  const entry = context.state.index.get(jobId);
  if (!entry) throw new HttpError(404, "job_not_found", `No job "${jobId}" in this workspace.`);
  return entry;
}

function readableEntry(entry: IndexedJob): IndexedJob & { record: JobRecord } {
  if (!entry.record) {
    throw new HttpError(
      409,
      entry.error?.code ?? "corrupt_workspace",
      entry.error?.message ?? `The record of ${entry.jobId} cannot be read.`,
    );
  }
  return entry as IndexedJob & { record: JobRecord };
}

async function resultsSource(
  context: ApiContext,
  entry: IndexedJob,
  merged: boolean,
): Promise<ResultsSource> {
  const source = await context.state.results.source(entry, merged);
  if ("unavailable" in source) throw new HttpError(409, "results_not_stored", source.unavailable);
  return source;
}

async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = (await readBody(request, 64 * 1024)).toString("utf8");
  if (body.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new HttpError(400, "invalid_json", "The request body must be a JSON object.");
  return parsed as Record<string, unknown>;
}

/** Fetches a finished job's results into the workspace if they are not there (streamed, never held). */
async function fetchResultsIfMissing(client: RelayClient, jobId: string): Promise<boolean> {
  if (await client.hasResults(jobId)) return false;
  for await (const _ of client.streamResults(jobId)) {
    // Fetching is the point.
  }
  return true;
}

const session: ApiHandler = ({ response, state }) => {
  state.send(response, 200, {
    sessionToken: state.sessionToken,
    readOnly: state.readOnly,
    directory: state.directory,
    providers: PROVIDER_NAMES,
    jobStatuses: JOB_STATUSES,
    resultStatuses: RESULT_STATUSES,
    pollIntervalMs: state.pollIntervalMs,
  });
};

const listJobs: ApiHandler = async ({ response, url, state }) => {
  const query = parseTableQuery(url.searchParams);
  await state.sync();
  const entries = state.index.list();
  let page: ReturnType<typeof jobTable>;
  try {
    page = jobTable(
      entries,
      query,
      (entry) => state.costs.lookup(entry),
      { index: state.index.version, costs: state.costs.version },
      state.orders,
    );
  } catch (error) {
    if (error instanceof ValidationError) throw new HttpError(400, "invalid_filter", error.message);
    throw error;
  }
  state.send(response, 200, { ...page, costVersion: state.costs.version });
};

const showJob: ApiHandler = async (context) => {
  const { response, state } = context;
  const found = await entryOf(context);
  if (!found.record) {
    state.send(response, 200, {
      corrupt: true,
      jobId: found.jobId,
      error: {
        code: found.error?.code ?? "corrupt_workspace",
        message: found.error?.message ?? "unreadable",
      },
    });
    return;
  }
  const entry = readableEntry(found);
  const cost = entry.stamps.results ? await state.costs.report(entry, COST_WAIT_MS) : null;
  state.send(
    response,
    200,
    jobDetail({
      entry,
      index: state.index,
      watched: state.history.of(entry.jobId),
      cost,
      poll: state.poller?.state(entry.jobId) ?? null,
      readOnly: state.readOnly,
      mergedAvailable: !("unavailable" in (await state.results.source(entry, true))),
    }),
  );
};

const listResults: ApiHandler = async (context) => {
  const { response, url, state } = context;
  const query = parseResultsQuery(url.searchParams);
  const entry = readableEntry(await entryOf(context));
  const source = await state.results.source(entry, query.merged);
  if ("unavailable" in source) {
    state.send(response, 200, { stored: false, reason: source.unavailable });
    return;
  }
  state.send(response, 200, await state.results.page(source, query));
};

const showResult: ApiHandler = async (context) => {
  const { response, url, params, state } = context;
  const position = Number(params.position);
  if (!Number.isInteger(position) || position < 0)
    throw new HttpError(400, "invalid_position", "The result's position must be a whole number from 0.");
  const merged = url.searchParams.get("merged") === "1";
  const entry = readableEntry(await entryOf(context));
  const result = await state.results.one(await resultsSource(context, entry, merged), position);
  if (!result)
    throw new HttpError(404, "result_not_found", `Job "${entry.jobId}" has no result at ${position}.`);
  state.send(response, 200, { position, result });
};

const download: ApiHandler = async (context) => {
  const { response, url } = context;
  const format = (url.searchParams.get("format") ?? "jsonl") as DownloadFormat;
  if (format !== "jsonl" && format !== "csv")
    throw new HttpError(400, "invalid_format", "format must be jsonl or csv.");
  const merged = url.searchParams.get("merged") === "1";
  const entry = readableEntry(await entryOf(context));
  await sendResultsFile(response, await resultsSource(context, entry, merged), {
    jobId: entry.jobId,
    format,
    merged,
  });
};

const events: ApiHandler = async ({ response, state }) => {
  await state.sync();
  state.events.add(response, { version: state.index.version, costVersion: state.costs.version, jobs: [] });
};

/** Runs an action on a job, then has the index read what it wrote. */
async function act<T>(context: ApiContext, jobIds: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    for (const jobId of jobIds) context.state.index.invalidate(jobId);
    await context.state.sync();
  }
}

const refresh: ApiHandler = async (context) => {
  const { response, state } = context;
  const jobId = jobIdParam(context.params);
  const job = await act(context, [jobId], async () => {
    const monitored = await state.client.monitorBatch(jobId);
    const fetched = isFinished(monitored.status) ? await fetchResultsIfMissing(state.client, jobId) : false;
    return { ...monitored, fetchedResults: fetched };
  });
  state.send(response, 200, { job });
};

const cancel: ApiHandler = async (context) => {
  const { request, response, state } = context;
  const jobId = jobIdParam(context.params);
  const body = await readJsonBody(request);
  if (body.confirm !== jobId) {
    throw new HttpError(
      400,
      "confirmation_required",
      `Cancelling needs the job's ID as confirmation: {"confirm": "${jobId}"}.`,
    );
  }
  const accepted = await act(context, [jobId], () => state.client.cancelBatch(jobId));
  state.send(response, 200, { accepted });
};

const retry: ApiHandler = async (context) => {
  const { request, response, state } = context;
  const jobId = jobIdParam(context.params);
  const body = await readJsonBody(request);
  const statuses = body.statuses;
  if (
    statuses !== undefined &&
    (!Array.isArray(statuses) || !statuses.every((item) => typeof item === "string"))
  )
    throw new HttpError(400, "invalid_input", "statuses must be a list of result statuses.");
  const job = await act(context, [jobId], async () => {
    const followUp = await state.client.retryFailed(
      jobId,
      statuses ? { statuses: statuses as ResultStatus[] } : {},
    );
    // The follow-up job's record is new; the parent's now links to it.
    state.index.invalidate(followUp.jobId);
    return followUp;
  });
  state.send(response, 200, { job });
};

/** The dashboard's JSON API. GET only reads; every change is a POST (checked before it gets here). */
export function apiRouter(): Router<ApiHandler> {
  return new Router<ApiHandler>()
    .add("GET", "/api/session", session)
    .add("GET", "/api/jobs", listJobs)
    .add("GET", "/api/events", events)
    .add("GET", "/api/jobs/:id", showJob)
    .add("GET", "/api/jobs/:id/results", listResults)
    .add("GET", "/api/jobs/:id/results/:position", showResult)
    .add("GET", "/api/jobs/:id/download", download)
    .add("POST", "/api/jobs/:id/refresh", refresh)
    .add("POST", "/api/jobs/:id/cancel", cancel)
    .add("POST", "/api/jobs/:id/retry", retry);
}

/** Answers an error as JSON: HTTP errors as they are, Relay errors by their code, anything else as a 500. */
export function errorAnswer(error: unknown): {
  status: number;
  body: { error: { code: string; message: string } };
} {
  if (error instanceof HttpError)
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof RelayError)
    return { status: httpStatusOf(error), body: { error: { code: error.code, message: error.message } } };
  return {
    status: 500,
    body: {
      error: {
        code: "internal_error",
        message: `The dashboard failed: ${(error as Error)?.message ?? error}`,
      },
    },
  };
}
