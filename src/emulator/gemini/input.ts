import type { SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import type { OutputOverrides } from "../output-overrides.js";
import type { PromptCache } from "../prompt-cache.js";
import type { OutputMarker } from "../structured.js";
import { type AnswerPlan, answerShape, declaredFunctions } from "./answers.js";
import { unknownField } from "./errors.js";
import { checkBatchModel, fieldsOf, isObject, RequestProblem, snake } from "./fields.js";
import { checkOutputSettings, checkPartData, checkToolConfig, checkTools } from "./request-checks.js";

export { fieldsOf, RequestProblem } from "./fields.js";

type Json = Record<string, unknown>;

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

/** Checks a Content; returns how many images its parts carry. */
function checkContent(
  value: unknown,
  where: string,
  roles: readonly string[],
): { content: Json; images: number } {
  let images = 0;
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
    checkPartData(fields, `${where}.parts[${index}]`);
    const blob = (fields.inlineData ?? fields.fileData) as Json | undefined;
    if (String(blob?.mimeType ?? blob?.mime_type ?? "").startsWith("image/")) images += 1;
  });
  return { content, images };
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
  /** How it is answered (JSON, a function call or text). */
  answer: AnswerPlan;
}

/**
 * Checks a GenerateContentRequest as the API parses it; throws RequestProblem with the API's wording. `seed` and
 * `markers` shape the answer (schema-shaped values, bad output on purpose).
 */
export function checkGenerateContentRequest(
  value: unknown,
  where: string,
  batchModel: string,
  answer: { seed: string; markers: ReadonlySet<OutputMarker> } = { seed: "", markers: new Set() },
): CheckedRequest {
  const request = fieldsOf(value, REQUEST_FIELDS, where);
  checkBatchModel(request.model, where, batchModel);
  if (!Array.isArray(request.contents) || request.contents.length === 0) {
    throw new RequestProblem("* GenerateContentRequest.contents: contents is not specified");
  }
  const checked = request.contents.map((content, index) =>
    checkContent(content, `${where}.contents[${index}]`, ["user", "model"]),
  );
  const contents = checked.map((entry) => entry.content);
  let systemText = "";
  if (request.systemInstruction !== undefined) {
    const { content } = checkContent(request.systemInstruction, `${where}.system_instruction`, [
      "user",
      "system",
      "model",
    ]);
    systemText = textOfParts(content.parts as Json[]);
  }
  const functions = checkTools(request.tools, where);
  const calling = checkToolConfig(request.toolConfig, where, functions);
  let maxTokens: number | undefined;
  let output: ReturnType<typeof checkOutputSettings> = { schema: undefined, thinking: undefined };
  let stopSequences: unknown;
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
    output = checkOutputSettings(config, at, batchModel, functions.size > 0);
    stopSequences = config.stopSequences;
  }
  if (request.safetySettings !== undefined && !Array.isArray(request.safetySettings)) {
    throw new RequestProblem(`Invalid value at '${where}.${snake("safetySettings")}': expected a list.`);
  }
  const shape = answerShape({
    functions: declaredFunctions(request.tools),
    calling,
    schema: output.schema,
    thinking: output.thinking,
    stopSequences,
    images: checked.reduce((sum, entry) => sum + entry.images, 0),
    systemText,
    markers: answer.markers,
  });
  return { promptText: lastUserText(contents), maxTokens, answer: { ...shape, ...answer, cachedTokens: 0 } };
}

const textOfParts = (parts: Json[]) =>
  parts.map((part) => (typeof part.text === "string" ? part.text : "")).join("");

function lastUserText(contents: Json[]): string {
  for (let index = contents.length - 1; index >= 0; index -= 1) {
    const content = contents[index] as Json;
    if (content.role !== undefined && content.role !== "user") continue;
    return textOfParts(content.parts as Json[]);
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
  /** How each request is answered (none for a request refused by its line). */
  answers: (AnswerPlan | undefined)[];
}

export interface Options {
  model: string;
  fateOf: (customId: string, bodyText: string) => RequestFate;
  outputs: OutputOverrides;
  /** Gemini's implicit cache of repeated prompt prefixes (here: system instructions), and the time now. */
  cache: PromptCache;
  now: number;
}

/** How long an implicitly cached prefix lives (Gemini does not document it; UNVERIFIED). */
const IMPLICIT_CACHE_MS = 5 * 60_000;

/** The request's answer with what it reads from the implicit cache. */
function withCache(answer: AnswerPlan, options: Options): AnswerPlan {
  if (answer.systemText === "") return answer;
  const { read } = options.cache.use(
    options.model,
    { text: answer.systemText, ttlMs: IMPLICIT_CACHE_MS },
    options.now,
  );
  return { ...answer, cachedTokens: read };
}

function simRequest(
  key: string,
  checked: Pick<CheckedRequest, "promptText" | "maxTokens">,
  model: string,
  fate: RequestFate,
): SimRequest {
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
  const input = emptyInput();
  wrapper.requests.forEach((entry, index) => {
    const at = `${where}.requests[${index}]`;
    const item = fieldsOf(entry, INLINED_REQUEST_FIELDS, at);
    if (item.metadata !== undefined && !isObject(item.metadata)) {
      throw new RequestProblem(
        `Invalid value at '${at}.metadata' (type.googleapis.com/google.protobuf.Struct)`,
      );
    }
    const metadata = item.metadata as Json | undefined;
    const key = typeof metadata?.key === "string" ? metadata.key : `#${index}`;
    const bodyText = JSON.stringify(item.request);
    const markers = options.outputs.take(key, bodyText);
    const checked = checkGenerateContentRequest(item.request, `${at}.request`, options.model, {
      seed: `${key}\n${bodyText}`,
      markers,
    });
    const fate = options.fateOf(key, bodyText);
    if (fate === "invalid" && !input.validationError) {
      input.validationError = {
        code: "INVALID_ARGUMENT",
        message: `Request ${index} (${key}) was marked invalid.`,
      };
    }
    input.requests.push(simRequest(key, checked, options.model, fate === "invalid" ? "fail" : fate));
    input.metadata.push(metadata);
    input.answers.push(withCache(checked.answer, options));
  });
  return input;
}

export function emptyInput(): BatchInput {
  return { requests: [], metadata: [], lineErrors: new Map(), validationError: null, answers: [] };
}

/**
 * An input file, read when the batch is created and judged as the service does once it runs: a line that is not
 * JSON or has no key fails the whole batch; a request the API would refuse gets an error line of its own.
 */
export function parseInputFile(text: string, options: Options): BatchInput {
  const input = emptyInput();
  eachKeyedLine(text, input, (line, raw, number) => {
    const fate = options.fateOf(line.key, raw);
    if (fate === "invalid") failBatch(input, `Line ${number} (${line.key}) was marked invalid.`);
    const { checked, refused } = checkedLine(input, line, () =>
      checkGenerateContentRequest(line.request, "request", options.model, {
        seed: `${line.key}\n${raw}`,
        markers: options.outputs.take(line.key, raw),
      }),
    );
    const runs = refused || fate === "invalid" ? "fail" : fate;
    input.requests.push(
      simRequest(line.key, checked ?? { promptText: "", maxTokens: undefined }, options.model, runs),
    );
    input.metadata.push(undefined);
    input.answers.push(checked && withCache(checked.answer, options));
  });
  return input;
}

/** Fails the whole batch at validation, unless an earlier problem did. */
export function failBatch(input: BatchInput, message: string): void {
  input.validationError ??= { code: "INVALID_ARGUMENT", message };
}

/**
 * Each line of an input file as the service reads it: a JSON object with a key. A line that is not JSON or has no
 * key fails the whole batch and ends the reading (blank lines are skipped); a file with no request fails too.
 */
export function eachKeyedLine(
  text: string,
  input: BatchInput,
  visit: (line: Json & { key: string }, raw: string, number: number) => void,
): void {
  const lines = text.split("\n");
  for (let index = 0; index < lines.length && !input.validationError; index += 1) {
    const raw = lines[index] as string;
    if (raw.trim() === "") continue;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      failBatch(input, `Line ${index + 1} of the input file is not valid JSON.`);
      return;
    }
    if (!isObject(line) || typeof line.key !== "string" || line.key === "") {
      failBatch(input, `Line ${index + 1} of the input file has no key.`);
      return;
    }
    visit(line as Json & { key: string }, raw, index + 1);
  }
  if (!input.validationError && input.requests.length === 0)
    failBatch(input, "The input file holds no requests.");
}

/**
 * A line's request as `check` reads it, and whether the API refuses it (`check` throws a RequestProblem, or the line
 * has a field besides key and request): a refused request gets an error line of its own.
 */
export function checkedLine<T>(
  input: BatchInput,
  line: Json,
  check: () => T,
): { checked: T | undefined; refused: boolean } {
  let checked: T | undefined;
  try {
    checked = check();
    const extra = Object.keys(line).find((name) => name !== "key" && name !== "request");
    if (extra) throw new RequestProblem(unknownField(extra, "line"));
    return { checked, refused: false };
  } catch (error) {
    if (!(error instanceof RequestProblem)) throw error;
    input.lineErrors.set(input.requests.length, error.message);
    return { checked, refused: true };
  }
}
