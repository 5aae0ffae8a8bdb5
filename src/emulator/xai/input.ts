import type { SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import { HttpError } from "../http.js";
import { checkChatBody } from "../openai-compatible/chat-shape.js";
import { planOf } from "../openai-compatible/kinds.js";
import { dotted } from "../openai-compatible/problems.js";
import { checkResponsesBody } from "../openai-compatible/responses-shape.js";
import { XAI_CHAT_SHAPE, XAI_RESPONSES_SHAPE } from "./shape.js";

type Json = Record<string, unknown>;

/** The request kinds a batch request may wrap (official SDK types and batch.proto); the emulator runs the text ones. */
const TEXT_KINDS = new Set(["responses", "chat_get_completion"]);
const MEDIA_KINDS = new Set(["image_generation", "image_edit", "video_generation", "video_extension"]);
const RESPONSES_ROLES = new Set(["user", "assistant", "system", "developer"]);
const CHAT_ROLES = new Set(["system", "user", "assistant", "tool", "developer"]);

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const invalid = (message: string) => new HttpError(400, "invalid_argument", message);

/** A request added to a batch, as the emulator keeps it. */
export interface AddedRequest extends SimRequest {
  /** `responses` or `chat_get_completion`. */
  kind: string;
  /** The request body as it was added. */
  body: Json;
}

function checkKeys(value: Json, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(`${where}: unknown field "${key}"`);
  }
}

function checkPositiveInteger(body: Json, key: string, where: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw invalid(`${where}.${key}: must be a positive integer`);
  }
  return value;
}

function checkRange(body: Json, key: string, min: number, max: number, where: string): void {
  const value = body[key];
  if (value === undefined || value === null) return;
  if (typeof value !== "number" || value < min || value > max) {
    throw invalid(`${where}.${key}: must be a number from ${min} to ${max}`);
  }
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (isObject(part) && typeof part.text === "string" ? part.text : "")).join("");
}

/** Messages (chat) or message input items (Responses); returns the last user turn's text. */
function checkMessages(messages: unknown[], roles: ReadonlySet<string>, where: string): string {
  let lastUser = "";
  messages.forEach((message, index) => {
    const at = `${where}[${index}]`;
    if (!isObject(message)) throw invalid(`${at}: must be an object`);
    // Responses input may also hold earlier output items and tool outputs, which carry a `type`.
    if (message.role === undefined && typeof message.type === "string" && message.type !== "message") return;
    if (typeof message.role !== "string" || !roles.has(message.role)) {
      throw invalid(`${at}.role: must be one of ${[...roles].join(", ")}`);
    }
    if (typeof message.content !== "string" && !Array.isArray(message.content)) {
      throw invalid(`${at}.content: must be a string or a list of content parts`);
    }
    if (message.role === "user") lastUser = textOf(message.content);
  });
  return lastUser;
}

function checkModel(body: Json, where: string): string {
  if (typeof body.model !== "string" || body.model === "") throw invalid(`${where}.model: is required`);
  return body.model;
}

/** A `responses` body (ModelRequest): model, input, and the limits the spec gives. */
function checkResponses(
  body: Json,
  where: string,
): { model: string; promptText: string; maxTokens?: number } {
  const model = checkModel(body, where);
  const input = body.input;
  let promptText: string;
  if (typeof input === "string") promptText = input;
  else if (Array.isArray(input) && input.length > 0)
    promptText = checkMessages(input, RESPONSES_ROLES, `${where}.input`);
  else throw invalid(`${where}.input: is required (a string or a list of input items)`);
  checkRange(body, "temperature", 0, 2, where);
  checkRange(body, "top_p", 0, 1, where);
  const maxTokens = checkPositiveInteger(body, "max_output_tokens", where);
  return maxTokens === undefined ? { model, promptText } : { model, promptText, maxTokens };
}

/** A `chat_get_completion` body (ChatRequest): model, messages, and the limits the spec gives. */
function checkChat(body: Json, where: string): { model: string; promptText: string; maxTokens?: number } {
  const model = checkModel(body, where);
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalid(`${where}.messages: must be a list with at least one message`);
  }
  const promptText = checkMessages(body.messages, CHAT_ROLES, `${where}.messages`);
  checkRange(body, "temperature", 0, 2, where);
  checkRange(body, "top_p", 0, 1, where);
  const maxTokens =
    checkPositiveInteger(body, "max_completion_tokens", where) ??
    checkPositiveInteger(body, "max_tokens", where);
  return maxTokens === undefined ? { model, promptText } : { model, promptText, maxTokens };
}

/**
 * Validates an add-requests body `{batch_requests: [{batch_request_id?, batch_request: {<kind>: body}}]}` as a whole:
 * one bad request refuses the call. IDs must be unique within the batch (`taken` holds those it has); a missing ID
 * is generated. A request marked "invalid" is refused here, since xAI checks requests when they are added.
 */
export function parseAddBody(
  body: unknown,
  options: {
    taken: ReadonlySet<string>;
    newId: () => string;
    fateOf: (customId: string, bodyText: string) => RequestFate;
  },
): AddedRequest[] {
  if (!isObject(body)) throw invalid("The body must be a JSON object");
  checkKeys(body, ["batch_requests"], "body");
  if (!Array.isArray(body.batch_requests)) throw invalid("batch_requests: is required (a list)");
  const seen = new Set<string>();
  return body.batch_requests.map((item: unknown, index: number) => {
    const where = `batch_requests[${index}]`;
    if (!isObject(item)) throw invalid(`${where}: must be an object`);
    checkKeys(item, ["batch_request_id", "batch_request"], where);
    const givenId = item.batch_request_id;
    if (givenId !== undefined && givenId !== null && (typeof givenId !== "string" || givenId === "")) {
      throw invalid(`${where}.batch_request_id: must be a non-empty string`);
    }
    const id = typeof givenId === "string" ? givenId : options.newId();
    if (options.taken.has(id) || seen.has(id)) {
      throw invalid(`${where}.batch_request_id: "${id}" is already used in this batch; IDs must be unique`);
    }
    seen.add(id);
    const request = item.batch_request;
    if (!isObject(request)) throw invalid(`${where}.batch_request: is required`);
    const kinds = Object.keys(request);
    const kind = kinds[0] ?? "";
    if (kinds.length !== 1) throw invalid(`${where}.batch_request: must hold exactly one request`);
    if (MEDIA_KINDS.has(kind)) throw invalid(`${where}.batch_request.${kind}: not supported by the emulator`);
    if (!TEXT_KINDS.has(kind)) throw invalid(`${where}.batch_request: unknown request kind "${kind}"`);
    const inner = request[kind];
    if (!isObject(inner)) throw invalid(`${where}.batch_request.${kind}: must be an object`);
    const at = `${where}.batch_request.${kind}`;
    const checked = kind === "responses" ? checkResponses(inner, at) : checkChat(inner, at);
    const text = JSON.stringify(inner);
    const fate = options.fateOf(id, text);
    if (fate === "invalid")
      throw invalid(`${at}: the request is invalid (asked for with [emulator:invalid])`);
    // The request kinds (structured output, tools, images) are checked as the requests are added, like the rest.
    const shape =
      kind === "responses"
        ? checkResponsesBody(inner, XAI_RESPONSES_SHAPE)
        : checkChatBody(inner, XAI_CHAT_SHAPE);
    const problem = shape.problems[0];
    if (problem) throw invalid(`${at}.${dotted(problem.path)}: ${problem.message}`);
    return { customId: id, kind, fate, body: inner, reply: planOf(shape.plan, text, fate), ...checked };
  });
}
