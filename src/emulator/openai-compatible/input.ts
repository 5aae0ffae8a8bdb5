import { lastUserText } from "../completion.js";
import type { SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import { type BodyShapes, openAIKinds } from "./kinds.js";
import { refusedParameters, responsesEcho } from "./params.js";

export interface ParsedInput {
  requests: SimRequest[];
  /** The first problem that fails the whole batch at validation, as OpenAI reports it in `errors.data`. */
  error: { code: string; message: string; line?: number; param?: string } | null;
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

/**
 * Parses and validates an OpenAI-style batch input file: one JSON object per line with `custom_id` and `body`
 * (and, when `endpoint` is given, `method: "POST"` and `url` naming it). One model per file, unique custom_ids.
 */
export function parseBatchInput(text: string, options: InputOptions): ParsedInput {
  const requests: SimRequest[] = [];
  const seen = new Set<string>();
  const urlMatches = options.urlMatches ?? ((url, endpoint) => url === endpoint);
  let model: string | undefined;
  let firstUrl: unknown;
  const fail = (problem: InputProblem, message: string, line?: number, param?: string): ParsedInput => {
    const code = options.codes?.[problem] ?? problem;
    return {
      requests,
      error: {
        code,
        message,
        ...(line === undefined ? {} : { line }),
        ...(param === undefined ? {} : { param }),
      },
    };
  };
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const raw = lines[index] as string;
    if (raw.trim() === "") continue;
    const lineNumber = index + 1;
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
    const maxTokens = maxTokensOf(body);
    // The body's parameters are checked when the request runs: a refused one fails this request alone.
    const shapeEndpoint = options.endpoint ?? options.bodyEndpoint ?? null;
    const refused = options.endpoint === null ? null : refusedParameters(options.endpoint, body);
    const kinds =
      refused || shapeEndpoint === null || !options.shapes
        ? { rejection: null }
        : openAIKinds(shapeEndpoint, body, options.shapes, fate);
    const rejection = refused ?? kinds.rejection;
    requests.push({
      customId,
      model: body.model,
      promptText: promptTextOf(body),
      fate,
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(rejection ? { rejection } : {}),
      ...(kinds.reply ? { reply: kinds.reply } : {}),
      ...(options.endpoint === "/v1/responses" ? { echo: responsesEcho(body) } : {}),
    });
  }
  if (requests.length === 0) return fail("empty_file", "The input file has no requests.");
  if (requests.length > options.maxRequests) {
    return fail("too_many_requests", `A batch may hold at most ${options.maxRequests} requests.`);
  }
  return { requests, error: null };
}
