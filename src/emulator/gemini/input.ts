import type { SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import { unknownField } from "./errors.js";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** A request the API would refuse, with the API's message. */
export class RequestProblem extends Error {}

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * The fields of a message by their camelCase names, as proto JSON parsing reads them: either spelling is
 * accepted, anything else is refused.
 */
const namesByList = new WeakMap<readonly string[], Map<string, string>>();

function namesOf(known: readonly string[]): Map<string, string> {
  let names = namesByList.get(known);
  if (!names) {
    names = new Map(known.flatMap((name) => [[name, name] as const, [snake(name), name] as const]));
    namesByList.set(known, names);
  }
  return names;
}

export function fieldsOf(value: unknown, known: readonly string[], where: string): Json {
  if (!isObject(value)) throw new RequestProblem(`Invalid value at '${where}': expected an object.`);
  const byName = namesOf(known);
  const fields: Json = {};
  for (const [name, field] of Object.entries(value)) {
    const canonical = byName.get(name);
    if (!canonical) throw new RequestProblem(unknownField(name, where));
    fields[canonical] = field;
  }
  return fields;
}

const REQUEST_FIELDS = [
  "model",
  "contents",
  "tools",
  "toolConfig",
  "safetySettings",
  "systemInstruction",
  "generationConfig",
  "cachedContent",
] as const;
const CONTENT_FIELDS = ["role", "parts"] as const;
const INLINED_REQUEST_FIELDS = ["request", "metadata"] as const;
const INLINED_REQUESTS_FIELDS = ["requests"] as const;
const PART_DATA = [
  "text",
  "inlineData",
  "fileData",
  "functionCall",
  "functionResponse",
  "executableCode",
  "codeExecutionResult",
] as const;
const PART_FIELDS = [
  ...PART_DATA,
  "thought",
  "thoughtSignature",
  "videoMetadata",
  "partMetadata",
  "mediaResolution",
];
const GENERATION_FIELDS = [
  "stopSequences",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "responseModalities",
  "candidateCount",
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "seed",
  "presencePenalty",
  "frequencyPenalty",
  "responseLogprobs",
  "logprobs",
  "enableEnhancedCivicAnswers",
  "speechConfig",
  "thinkingConfig",
  "imageConfig",
  "mediaResolution",
] as const;

function checkContent(value: unknown, where: string, roles: readonly string[]): Json {
  const content = fieldsOf(value, CONTENT_FIELDS, where);
  if (content.role !== undefined && !roles.includes(String(content.role))) {
    throw new RequestProblem(`Please use a valid role: ${roles.join(", ")}.`);
  }
  if (!Array.isArray(content.parts) || content.parts.length === 0) {
    throw new RequestProblem(`* GenerateContentRequest.${where.split(".").at(-1)}.parts: must not be empty.`);
  }
  content.parts.forEach((part, index) => {
    const fields = fieldsOf(part, PART_FIELDS, `${where}.parts[${index}]`);
    const data = PART_DATA.filter((name) => fields[name] !== undefined);
    if (data.length !== 1) {
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.parts[${index}]: a part holds exactly one of ${PART_DATA.join(", ")}.`,
      );
    }
    if (fields.text !== undefined && typeof fields.text !== "string") {
      throw new RequestProblem(
        `Invalid value at '${where}.parts[${index}].text' (TYPE_STRING), ${JSON.stringify(fields.text)}`,
      );
    }
  });
  return content;
}

function checkNumber(
  value: unknown,
  where: string,
  type: "TYPE_INT32" | "TYPE_FLOAT",
  min: number,
  max: number,
) {
  if (value === undefined) return;
  const number = typeof value === "string" && type === "TYPE_INT32" ? Number(value) : value;
  if (typeof number !== "number" || (type === "TYPE_INT32" && !Number.isInteger(number))) {
    throw new RequestProblem(`Invalid value at '${where}' (${type}), ${JSON.stringify(value)}`);
  }
  if (number < min || number > max) {
    throw new RequestProblem(
      `* GenerateContentRequest.${where}: must be between ${min} and ${max}, not ${number}.`,
    );
  }
}

export interface CheckedRequest {
  /** The text the fake model answers: the last user turn. */
  promptText: string;
  maxTokens: number | undefined;
}

/** Checks a GenerateContentRequest as the API parses it; throws RequestProblem with the API's wording. */
export function checkGenerateContentRequest(
  value: unknown,
  where: string,
  batchModel: string,
): CheckedRequest {
  const request = fieldsOf(value, REQUEST_FIELDS, where);
  if (
    request.model !== undefined &&
    request.model !== batchModel &&
    `models/${request.model}` !== batchModel
  ) {
    throw new RequestProblem(
      `* ${where}.model: ${String(request.model)} is not the batch's model (${batchModel}).`,
    );
  }
  if (!Array.isArray(request.contents) || request.contents.length === 0) {
    throw new RequestProblem("* GenerateContentRequest.contents: contents is not specified");
  }
  const contents = request.contents.map((content, index) =>
    checkContent(content, `${where}.contents[${index}]`, ["user", "model"]),
  );
  if (request.systemInstruction !== undefined) {
    checkContent(request.systemInstruction, `${where}.system_instruction`, ["user", "system", "model"]);
  }
  let maxTokens: number | undefined;
  if (request.generationConfig !== undefined) {
    const at = `${where}.generation_config`;
    const config = fieldsOf(request.generationConfig, GENERATION_FIELDS, at);
    checkNumber(config.maxOutputTokens, `${at}.max_output_tokens`, "TYPE_INT32", 1, 2 ** 31 - 1);
    checkNumber(config.temperature, `${at}.temperature`, "TYPE_FLOAT", 0, 2);
    checkNumber(config.topP, `${at}.top_p`, "TYPE_FLOAT", 0, 1);
    checkNumber(config.candidateCount, `${at}.candidate_count`, "TYPE_INT32", 1, 8);
    if (
      config.stopSequences !== undefined &&
      (!Array.isArray(config.stopSequences) || config.stopSequences.length > 5)
    ) {
      throw new RequestProblem(`* GenerateContentRequest.${at}.stop_sequences: at most 5 stop sequences.`);
    }
    maxTokens = config.maxOutputTokens === undefined ? undefined : Number(config.maxOutputTokens);
  }
  for (const list of ["tools", "safetySettings"] as const) {
    if (request[list] !== undefined && !Array.isArray(request[list])) {
      throw new RequestProblem(`Invalid value at '${where}.${snake(list)}': expected a list.`);
    }
  }
  return { promptText: lastUserText(contents), maxTokens };
}

function lastUserText(contents: Json[]): string {
  for (let index = contents.length - 1; index >= 0; index -= 1) {
    const content = contents[index] as Json;
    if (content.role !== undefined && content.role !== "user") continue;
    return (content.parts as Json[]).map((part) => (typeof part.text === "string" ? part.text : "")).join("");
  }
  return "";
}

/** One request of a batch: what the engine runs, and what the results echo back. */
export interface BatchInput {
  requests: SimRequest[];
  /** Inline requests: each one's `metadata`, echoed in its response. */
  metadata: (Json | undefined)[];
  /** File lines the API would refuse one by one: their error message, by request index. */
  lineErrors: Map<number, string>;
  /** Set when the input fails the whole batch at validation. */
  validationError: { code: string; message: string } | null;
}

interface Options {
  model: string;
  fateOf: (customId: string, bodyText: string) => RequestFate;
}

function simRequest(key: string, checked: CheckedRequest, model: string, fate: RequestFate): SimRequest {
  return {
    customId: key,
    model: model.replace(/^models\//, ""),
    promptText: checked.promptText,
    fate,
    ...(checked.maxTokens === undefined ? {} : { maxTokens: checked.maxTokens }),
  };
}

/**
 * Inline requests, checked as part of the create call: any problem refuses the whole call (RequestProblem).
 * A request marked invalid fails the batch at validation instead.
 */
export function parseInlineRequests(value: unknown, options: Options): BatchInput {
  const where = "batch.input_config.requests";
  const wrapper = fieldsOf(value, INLINED_REQUESTS_FIELDS, where);
  if (!Array.isArray(wrapper.requests) || wrapper.requests.length === 0) {
    throw new RequestProblem(`* BatchGenerateContentRequest.${where}.requests: must not be empty.`);
  }
  const input: BatchInput = { requests: [], metadata: [], lineErrors: new Map(), validationError: null };
  wrapper.requests.forEach((entry, index) => {
    const at = `${where}.requests[${index}]`;
    const item = fieldsOf(entry, INLINED_REQUEST_FIELDS, at);
    if (item.metadata !== undefined && !isObject(item.metadata)) {
      throw new RequestProblem(
        `Invalid value at '${at}.metadata' (type.googleapis.com/google.protobuf.Struct)`,
      );
    }
    const checked = checkGenerateContentRequest(item.request, `${at}.request`, options.model);
    const metadata = item.metadata as Json | undefined;
    const key = typeof metadata?.key === "string" ? metadata.key : `#${index}`;
    const fate = options.fateOf(key, JSON.stringify(item.request));
    if (fate === "invalid" && !input.validationError) {
      input.validationError = {
        code: "INVALID_ARGUMENT",
        message: `Request ${index} (${key}) was marked invalid.`,
      };
    }
    input.requests.push(simRequest(key, checked, options.model, fate === "invalid" ? "fail" : fate));
    input.metadata.push(metadata);
  });
  return input;
}

/**
 * An input file, read when the batch is created and judged as the service does once it runs: a line that is not
 * JSON or has no key fails the whole batch; a request the API would refuse gets an error line of its own.
 */
export function parseInputFile(text: string, options: Options): BatchInput {
  const input: BatchInput = { requests: [], metadata: [], lineErrors: new Map(), validationError: null };
  const fail = (message: string) => {
    input.validationError ??= { code: "INVALID_ARGUMENT", message };
  };
  text.split("\n").forEach((raw, index) => {
    if (raw.trim() === "" || input.validationError) return;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      fail(`Line ${index + 1} of the input file is not valid JSON.`);
      return;
    }
    if (!isObject(line) || typeof line.key !== "string" || line.key === "") {
      fail(`Line ${index + 1} of the input file has no key.`);
      return;
    }
    const fate = options.fateOf(line.key, raw);
    if (fate === "invalid") fail(`Line ${index + 1} (${line.key}) was marked invalid.`);
    let checked: CheckedRequest = { promptText: "", maxTokens: undefined };
    let refused = false;
    try {
      checked = checkGenerateContentRequest(line.request, "request", options.model);
      const extra = Object.keys(line).find((name) => name !== "key" && name !== "request");
      if (extra) throw new RequestProblem(unknownField(extra, "line"));
    } catch (error) {
      if (!(error instanceof RequestProblem)) throw error;
      input.lineErrors.set(input.requests.length, error.message);
      refused = true;
    }
    const runs = refused || fate === "invalid" ? "fail" : fate;
    input.requests.push(simRequest(line.key, checked, options.model, runs));
    input.metadata.push(undefined);
  });
  if (!input.validationError && input.requests.length === 0) fail("The input file holds no requests.");
  return input;
}
