import { estimateTokens, fakeCompletion, lastUserText } from "../completion.js";
import type { RequestList, SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import { placedLines } from "../files.js";
import { StoredRequests } from "../stored-requests.js";
import { type BodyShapes, openAIKinds } from "./kinds.js";
import { refusedParameters, responsesEcho } from "./params.js";

export interface ParsedInput {
  requests: RequestList;
  /** The first problem that fails the whole batch at validation, as OpenAI reports it in `errors.data`. */
  error: { code: string; message: string; line?: number; param?: string } | null;
  /** Counted while the input was read (an input kept on disk), so that nothing needs reading again for them. */
  totals?: InputTotals;
  /** The requests' table, for an input kept on disk. */
  stored?: StoredRequests;
}

export interface InputTotals {
  /** Estimated prompt tokens of every request (what the batch holds in the enqueued-token queue). */
  promptTokens: number;
  /** Tokens of the requests that succeed if the batch completes (its `usage` once completed). */
  succeeded: { inputTokens: number; outputTokens: number };
}

type Json = Record<string, unknown>;

function promptTextOf(body: Json): string {
  if (typeof body.input === "string") return body.input;
  if (Array.isArray(body.input)) return lastUserText(body.input);
  return lastUserText(body.messages);
}

function maxTokensOf(body: Json): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  return typeof value === "number" ? value : undefined;
}

/** The problems that fail a batch at validation, named as OpenAI names them. */
export type InputProblem =
  | "invalid_json_line"
  | "missing_required_parameter"
  | "duplicate_custom_id"
  | "invalid_method"
  | "invalid_url"
  | "invalid_request"
  | "mismatched_model"
  | "empty_file"
  | "too_many_requests";

export interface InputOptions {
  /** The batch's endpoint; when given, each line needs `method: "POST"` and a `url` naming it. */
  endpoint: string | null;
  fateOf: (customId: string, line: string) => RequestFate;
  maxRequests: number;
  /** Codes where a provider names a problem its own way (Azure: url_mismatch, model_mismatch, too_many_tasks). */
  codes?: Partial<Record<InputProblem, string>>;
  /** Whether a line's url names the endpoint (exact equality unless given). Every line's url must also be the same. */
  urlMatches?: (url: string, endpoint: string) => boolean;
  /** The request kinds the provider checks in a body (structured output, tools, images, embeddings), per endpoint. */
  shapes?: BodyShapes;
  /** The endpoint whose body shape lines follow when the batch names no endpoint per line (Together). */
  bodyEndpoint?: string;
}

/** One line of an input file, with its number (1-based). */
export interface InputLine {
  text: string;
  number: number;
}

/**
 * Validates the lines of an OpenAI-style batch input file: one JSON object per line with `custom_id` and `body`
 * (and, when `endpoint` is given, `method: "POST"` and `url` naming it). One model per file, unique custom_ids.
 * Each valid request is handed to `keep` as it is read; the first problem ends the reading and is returned.
 */
export function validateBatchInput<Line extends InputLine>(
  lines: Iterable<Line>,
  options: InputOptions,
  keep: (request: SimRequest, line: Line) => void,
): ParsedInput["error"] {
  const seen = new Set<string>();
  const urlMatches = options.urlMatches ?? ((url, endpoint) => url === endpoint);
  let model: string | undefined;
  let firstUrl: unknown;
  let count = 0;
  const fail = (problem: InputProblem, message: string, line?: number, param?: string) => {
    const code = options.codes?.[problem] ?? problem;
    return {
      code,
      message,
      ...(line === undefined ? {} : { line }),
      ...(param === undefined ? {} : { param }),
    };
  };
  for (const line of lines) {
    const raw = line.text;
    if (raw.trim() === "") continue;
    const lineNumber = line.number;
    let parsed: Json;
    try {
      parsed = JSON.parse(raw) as Json;
    } catch {
      return fail("invalid_json_line", `Line ${lineNumber} is not valid JSON.`, lineNumber);
    }
    const customId = parsed.custom_id;
    if (typeof customId !== "string" || customId === "") {
      return fail("missing_required_parameter", `Line ${lineNumber} has no custom_id.`, lineNumber);
    }
    if (seen.has(customId)) {
      return fail(
        "duplicate_custom_id",
        `The custom_id '${customId}' is used more than once in the file.`,
        lineNumber,
      );
    }
    seen.add(customId);
    if (options.endpoint !== null) {
      if (parsed.method !== "POST")
        return fail("invalid_method", `Line ${lineNumber}: method must be POST.`, lineNumber);
      firstUrl ??= parsed.url;
      if (
        typeof parsed.url !== "string" ||
        parsed.url !== firstUrl ||
        !urlMatches(parsed.url, options.endpoint)
      ) {
        return fail(
          "invalid_url",
          "URL provided for this request does not match the batch endpoint",
          lineNumber,
          "url",
        );
      }
    }
    const body = parsed.body as Json | undefined;
    if (!body || typeof body !== "object" || typeof body.model !== "string") {
      return fail("invalid_request", `Line ${lineNumber}: body.model is required.`, lineNumber);
    }
    if (model !== undefined && body.model !== model) {
      return fail(
        "mismatched_model",
        `Line ${lineNumber}: every request in a batch must use the same model.`,
        lineNumber,
      );
    }
    model = body.model;
    const fate = options.fateOf(customId, raw);
    if (fate === "invalid")
      return fail("invalid_request", `Line ${lineNumber} was marked invalid.`, lineNumber);
    keep(requestOfLine(parsed, fate, options), line);
    count += 1;
  }
  if (count === 0) return fail("empty_file", "The input file has no requests.");
  if (count > options.maxRequests) {
    return fail("too_many_requests", `A batch may hold at most ${options.maxRequests} requests.`);
  }
  return null;
}

/** The request a valid input line holds (parsed), with the fate it was given. */
export function requestOfLine(
  parsed: Json,
  fate: RequestFate,
  options: Pick<InputOptions, "endpoint" | "shapes" | "bodyEndpoint">,
): SimRequest {
  const body = parsed.body as Json;
  const maxTokens = maxTokensOf(body);
  // The body's parameters are checked when the request runs: a refused one fails this request alone.
  const shapeEndpoint = options.endpoint ?? options.bodyEndpoint ?? null;
  const refused = options.endpoint === null ? null : refusedParameters(options.endpoint, body);
  const kinds =
    refused || shapeEndpoint === null || !options.shapes
      ? { rejection: null }
      : openAIKinds(shapeEndpoint, body, options.shapes, fate);
  const rejection = refused ?? kinds.rejection;
  return {
    customId: parsed.custom_id as string,
    model: body.model as string,
    promptText: promptTextOf(body),
    fate,
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(rejection ? { rejection } : {}),
    ...(kinds.reply ? { reply: kinds.reply } : {}),
    ...(options.endpoint === "/v1/responses" ? { echo: responsesEcho(body) } : {}),
  };
}

/** Parses and validates an OpenAI-style batch input file held in memory (see validateBatchInput). */
export function parseBatchInput(text: string, options: InputOptions): ParsedInput {
  const requests: SimRequest[] = [];
  const lines = text.split("\n").map((line, index) => ({ text: line, number: index + 1 }));
  const error = validateBatchInput(lines, options, (request) => requests.push(request));
  return { requests, error };
}

/**
 * Parses and validates an input file kept on disk (see validateBatchInput) without keeping its requests in memory:
 * each is read again from its line when needed (see StoredRequests). `path` must not change while the batch lives.
 */
export function parseStoredInput(path: string, options: InputOptions): ParsedInput {
  const table = new StoredRequests(path, (line, fate) =>
    requestOfLine(JSON.parse(line) as Json, fate, options),
  );
  const totals: InputTotals = { promptTokens: 0, succeeded: { inputTokens: 0, outputTokens: 0 } };
  const error = validateBatchInput(placedLines(path), options, (request, line) => {
    table.add(request, line.offset, line.bytes);
    totals.promptTokens += estimateTokens(request.promptText);
    if (request.fate === "succeed" && !request.rejection) {
      const completion = fakeCompletion(request.model, request.promptText, request.maxTokens);
      totals.succeeded.inputTokens += completion.inputTokens;
      totals.succeeded.outputTokens += completion.outputTokens;
    }
  });
  return {
    requests: table,
    error,
    totals,
    stored: table,
  };
}
