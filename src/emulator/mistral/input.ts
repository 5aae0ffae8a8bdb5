import { lastUserText } from "../completion.js";
import type { SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import { HttpError } from "../http.js";
import { checkChatBody } from "../openai-compatible/chat-shape.js";
import { checkEmbeddingsBody } from "../openai-compatible/embeddings-shape.js";
import { planOf } from "../openai-compatible/kinds.js";
import { type DetailList, enumMessage, type ValidationDetail, ValidationFailure } from "./errors.js";
import { MISTRAL_CHAT_SHAPE, MISTRAL_EMBEDDINGS_SHAPE, validationDetails } from "./shape.js";

type Json = Record<string, unknown>;

/** The batch endpoints in Mistral's spec (ApiEndpoint); the emulator runs chat completions and embeddings. */
export const API_ENDPOINTS = [
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/fim/completions",
  "/v1/moderations",
  "/v1/chat/moderations",
  "/v1/ocr",
  "/v1/classifications",
  "/v1/chat/classifications",
  "/v1/conversations",
  "/v1/audio/transcriptions",
];
export const CHAT_COMPLETIONS = "/v1/chat/completions";
export const EMBEDDINGS = "/v1/embeddings";
/** BatchJobIn: `requests` has `maxItems: 10000`. */
export const MAX_INLINE_REQUESTS = 10_000;
/** "[timeout_hours] defaults to 24 hours and should be lower than 7 days." */
const MAX_TIMEOUT_HOURS = 7 * 24;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export interface CreateBody {
  inputFiles: string[] | null;
  requests: { customId: string | null; body: Json }[] | null;
  endpoint: string;
  model: string | null;
  metadata: Record<string, string> | null;
  timeoutHours: number;
}

function nullableString(value: unknown, field: string, details: DetailList): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    details.add("string_type", ["body", field], "Input should be a valid string", value);
    return null;
  }
  return value;
}

function metadataOf(value: unknown, details: DetailList): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) {
    details.add("dict_type", ["body", "metadata"], "Input should be a valid dictionary", value);
    return null;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (key.length < 1 || key.length > 32) {
      const msg = key.length < 1 ? "at least 1 character" : "at most 32 characters";
      details.add(
        key.length < 1 ? "string_too_short" : "string_too_long",
        ["body", "metadata", `[key]`],
        `String should have ${msg}`,
        key,
      );
    }
    if (typeof entry !== "string") {
      details.add("string_type", ["body", "metadata", key], "Input should be a valid string", entry);
    } else if (entry.length < 1 || entry.length > 512) {
      const msg = entry.length < 1 ? "at least 1 character" : "at most 512 characters";
      details.add(
        entry.length < 1 ? "string_too_short" : "string_too_long",
        ["body", "metadata", key],
        `String should have ${msg}`,
        entry,
      );
    }
  }
  return value as Record<string, string>;
}

function inlineRequestsOf(value: unknown, details: DetailList): CreateBody["requests"] {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    details.add("list_type", ["body", "requests"], "Input should be a valid list", value);
    return null;
  }
  if (value.length > MAX_INLINE_REQUESTS) {
    details.add(
      "too_long",
      ["body", "requests"],
      `List should have at most ${MAX_INLINE_REQUESTS} items after validation, not ${value.length}`,
    );
    return null;
  }
  return value.flatMap((item, index) => {
    if (!isObject(item)) {
      details.add(
        "model_attributes_type",
        ["body", "requests", index],
        "Input should be a valid dictionary or object to extract fields from",
        item,
      );
      return [];
    }
    if (!isObject(item.body)) {
      if (item.body === undefined)
        details.add("missing", ["body", "requests", index, "body"], "Field required", item);
      else
        details.add(
          "dict_type",
          ["body", "requests", index, "body"],
          "Input should be a valid dictionary",
          item.body,
        );
      return [];
    }
    const customId = nullableString(item.custom_id, "custom_id", details);
    return [{ customId, body: item.body }];
  });
}

/**
 * BatchJobIn, checked as the API's schema does (422 with every problem listed). Keys the schema does not name are
 * ignored, as it does not forbid them (unlike the chat-completion bodies, which do).
 */
export function checkCreateBody(raw: unknown, details: DetailList): CreateBody {
  if (!isObject(raw)) {
    details.add(
      "model_attributes_type",
      ["body"],
      "Input should be a valid dictionary or object to extract fields from",
      raw,
    );
    details.throwIfAny();
  }
  const body = raw as Json;
  let endpoint = "";
  if (body.endpoint === undefined) details.add("missing", ["body", "endpoint"], "Field required", body);
  else if (typeof body.endpoint !== "string" || !API_ENDPOINTS.includes(body.endpoint)) {
    details.add("enum", ["body", "endpoint"], enumMessage(API_ENDPOINTS), body.endpoint);
  } else endpoint = body.endpoint;

  let inputFiles: string[] | null = null;
  if (body.input_files !== undefined && body.input_files !== null) {
    if (!Array.isArray(body.input_files)) {
      details.add("list_type", ["body", "input_files"], "Input should be a valid list", body.input_files);
    } else {
      inputFiles = [];
      body.input_files.forEach((id, index) => {
        const problem = uuidProblem(id, ["body", "input_files", index]);
        if (problem) details.entries.push(problem);
        else inputFiles?.push(String(id).toLowerCase());
      });
    }
  }
  const requests = inlineRequestsOf(body.requests, details);
  const model = nullableString(body.model, "model", details);
  nullableString(body.agent_id, "agent_id", details);
  const metadata = metadataOf(body.metadata, details);

  let timeoutHours = 24;
  if (body.timeout_hours !== undefined) {
    if (typeof body.timeout_hours !== "number" || !Number.isInteger(body.timeout_hours)) {
      details.add(
        "int_type",
        ["body", "timeout_hours"],
        "Input should be a valid integer",
        body.timeout_hours,
      );
    } else if (body.timeout_hours < 1) {
      details.add(
        "greater_than_equal",
        ["body", "timeout_hours"],
        "Input should be greater than or equal to 1",
        body.timeout_hours,
      );
    } else if (body.timeout_hours >= MAX_TIMEOUT_HOURS) {
      details.add(
        "less_than",
        ["body", "timeout_hours"],
        `Input should be less than ${MAX_TIMEOUT_HOURS}`,
        body.timeout_hours,
      );
    } else timeoutHours = body.timeout_hours;
  }
  details.throwIfAny();

  if (body.agent_id !== undefined && body.agent_id !== null) {
    throw new HttpError(400, "agents_not_emulated", "The emulator runs batches on models, not agents.");
  }
  if ((inputFiles === null) === (requests === null)) {
    throw new HttpError(400, "invalid_request", "Give exactly one of input_files and requests.");
  }
  if (inputFiles?.length === 0 || requests?.length === 0) {
    throw new HttpError(400, "invalid_request", "The batch holds no requests.");
  }
  if (endpoint !== CHAT_COMPLETIONS && endpoint !== EMBEDDINGS) {
    throw new HttpError(
      400,
      "endpoint_not_emulated",
      `The emulator runs ${CHAT_COMPLETIONS} and ${EMBEDDINGS} batches, not ${endpoint}.`,
    );
  }
  return { inputFiles, requests, endpoint, model, metadata, timeoutHours };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidProblem(value: unknown, loc: (string | number)[]): ValidationDetail | null {
  if (typeof value === "string" && UUID.test(value)) return null;
  return { type: "uuid_parsing", loc, msg: "Input should be a valid UUID", input: value };
}

/** A path parameter typed `format: uuid`: anything else is a 422, before any lookup. */
export function uuidParam(value: string | undefined, name: string): string {
  const problem = uuidProblem(value, ["path", name]);
  if (problem) throw new ValidationFailure([problem]);
  return (value as string).toLowerCase();
}

/** Fields of Mistral's ChatCompletionRequest (which forbids any other: `additionalProperties: false`). */
const CHAT_FIELDS = new Set([
  "model",
  "temperature",
  "top_p",
  "max_tokens",
  "stream",
  "stop",
  "random_seed",
  "metadata",
  "messages",
  "response_format",
  "tools",
  "tool_choice",
  "presence_penalty",
  "frequency_penalty",
  "n",
  "prediction",
  "parallel_tool_calls",
  "prompt_mode",
  "reasoning_effort",
  "guardrails",
  "prompt_cache_key",
  "safe_prompt",
]);
const ROLES = new Set(["system", "user", "assistant", "tool"]);

/** What the chat-completions endpoint would answer 422 to, for one request body of a batch. */
export function chatBodyProblems(body: Json): ValidationDetail[] {
  const problems: ValidationDetail[] = [];
  for (const key of Object.keys(body)) {
    if (!CHAT_FIELDS.has(key))
      problems.push({
        type: "extra_forbidden",
        loc: ["body", key],
        msg: "Extra inputs are not permitted",
        input: body[key],
      });
  }
  if (!Array.isArray(body.messages)) {
    problems.push(
      body.messages === undefined
        ? { type: "missing", loc: ["body", "messages"], msg: "Field required", input: body }
        : {
            type: "list_type",
            loc: ["body", "messages"],
            msg: "Input should be a valid list",
            input: body.messages,
          },
    );
  } else {
    body.messages.forEach((message, index) => {
      const role = isObject(message) ? message.role : undefined;
      if (typeof role !== "string" || !ROLES.has(role)) {
        problems.push({
          type: "union_tag_invalid",
          loc: ["body", "messages", index],
          msg: "Input tag does not match any of the expected tags: 'assistant', 'system', 'tool', 'user'",
          input: message,
        });
      }
    });
  }
  const maxTokens = body.max_tokens;
  if (
    maxTokens !== undefined &&
    maxTokens !== null &&
    !(Number.isInteger(maxTokens) && (maxTokens as number) >= 0)
  ) {
    problems.push({
      type: "int_type",
      loc: ["body", "max_tokens"],
      msg: "Input should be a valid integer greater than or equal to 0",
      input: maxTokens,
    });
  }
  const temperature = body.temperature;
  if (
    temperature !== undefined &&
    temperature !== null &&
    !(typeof temperature === "number" && temperature >= 0 && temperature <= 1.5)
  ) {
    problems.push({
      type: "less_than_equal",
      loc: ["body", "temperature"],
      msg: "Input should be between 0 and 1.5",
      input: temperature,
    });
  }
  return problems;
}

/** A request of a batch as the emulator runs it, with the 422 the endpoint would give it, if any. */
export interface ParsedRequest extends SimRequest {
  /** The custom_id as given (null when the line had none; `customId` is then the line's index). */
  givenCustomId: string | null;
  problems: ValidationDetail[] | null;
}

export interface ParsedBatchInput {
  requests: ParsedRequest[];
  /** The first problem that fails the whole job at validation (FAILED, with this in `errors`). */
  error: { code: string; message: string } | null;
}

/** One request line as read: the parsed object (or the text that failed to parse) and where it came from. */
export interface InputLine {
  text: string;
  where: string;
}

/**
 * Reads a job's requests, from its input files' lines or its inline requests: `{custom_id, body}`. A line that is
 * not a JSON object with a `body` object, a missing model, or several models fail the whole job; a body the
 * chat endpoint would refuse fails that request alone (a 422 in the error file).
 */
export function parseBatchRequests(
  lines: Iterable<InputLine>,
  options: {
    model: string | null;
    fateOf: (customId: string, text: string) => RequestFate;
    /** The job's endpoint: which request schema each body is checked against. */
    endpoint?: string;
  },
): ParsedBatchInput {
  const requests: ParsedRequest[] = [];
  const models = new Set<string>();
  const fail = (message: string): ParsedBatchInput => ({
    requests,
    error: { code: "invalid_input", message },
  });
  for (const { text, where } of lines) {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      return fail(`${where} is not valid JSON.`);
    }
    if (!isObject(line) || !isObject(line.body)) return fail(`${where} has no "body" object.`);
    const customId = line.custom_id;
    if (customId !== undefined && customId !== null && typeof customId !== "string") {
      return fail(`${where}: custom_id must be a string.`);
    }
    const body = line.body;
    const model = options.model ?? (typeof body.model === "string" ? body.model : null);
    if (model === null) return fail(`${where}: no model; name it on the job or in the body.`);
    models.add(model);
    if (models.size > 1) return fail("A batch job runs one model; the requests name several.");
    const id = typeof customId === "string" ? customId : String(requests.length);
    const fate = options.fateOf(id, text);
    if (fate === "invalid") return fail(`${where} was marked invalid.`);
    const embeddings = options.endpoint === EMBEDDINGS;
    const kinds = embeddings
      ? checkEmbeddingsBody(body, model, MISTRAL_EMBEDDINGS_SHAPE)
      : checkChatBody(body, MISTRAL_CHAT_SHAPE);
    const problems = [
      ...(embeddings ? [] : chatBodyProblems({ ...body, model })),
      ...validationDetails(kinds.problems, body),
    ];
    const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : undefined;
    requests.push({
      customId: id,
      givenCustomId: typeof customId === "string" ? customId : null,
      model,
      promptText: embeddings ? String(body.input ?? "") : lastUserText(body.messages),
      fate: problems.length > 0 ? "fail" : fate,
      problems: problems.length > 0 ? problems : null,
      reply: planOf(kinds.plan, text, fate),
      ...(maxTokens === undefined ? {} : { maxTokens }),
    });
  }
  if (requests.length === 0) return fail("The batch holds no requests.");
  return { requests, error: null };
}
