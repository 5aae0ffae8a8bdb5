import type { SimRequest } from "../engine.js";
import type { RequestFate } from "../fates.js";
import { HttpError } from "../http.js";
import type { OutputOverrides } from "../output-overrides.js";
import type { PromptCache } from "../prompt-cache.js";
import { type AnswerPlan, planAnswer } from "./answers.js";
import { refusedParams } from "./params.js";

export const MAX_REQUESTS = 100_000;
export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

type Json = Record<string, unknown>;

export interface CreateRequest {
  custom_id: string;
  params: Json;
}

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const invalid = (message: string) => new HttpError(400, "invalid_request_error", message);

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block) => (isObject(block) && typeof block.text === "string" ? block.text : ""))
    .join("");
}

/** The text the fake model answers: the last user turn. */
function promptTextOf(messages: Json[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as Json;
    if (message.role === "user") return textOf(message.content);
  }
  return "";
}

function checkParams(
  params: unknown,
  where: string,
): Json & { model: string; max_tokens: number; messages: Json[] } {
  if (!isObject(params)) throw invalid(`${where}: Field required`);
  if (typeof params.model !== "string" || params.model === "")
    throw invalid(`${where}.model: Field required`);
  const maxTokens = params.max_tokens;
  if (maxTokens === undefined) throw invalid(`${where}.max_tokens: Field required`);
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw invalid(`${where}.max_tokens: Input should be an integer greater than or equal to 1`);
  }
  const messages = params.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid(`${where}.messages: Input should be a list with at least 1 item`);
  }
  messages.forEach((message, index) => {
    if (!isObject(message) || (message.role !== "user" && message.role !== "assistant")) {
      throw invalid(
        `${where}.messages.${index}.role: Input should be 'user' or 'assistant' (use the top-level system parameter for a system prompt)`,
      );
    }
  });
  if (params.system !== undefined && typeof params.system !== "string" && !Array.isArray(params.system)) {
    throw invalid(`${where}.system: Input should be a string or a list of text blocks`);
  }
  return params as Json & { model: string; max_tokens: number; messages: Json[] };
}

export interface CreateOptions {
  fateOf: (customId: string, bodyText: string) => RequestFate;
  /** The `anthropic-version` the batch is created with: it decides which params the requests may carry. */
  apiVersion: string;
  outputs: OutputOverrides;
  cache: PromptCache;
  now: number;
}

/**
 * Validates a create-batch body as the API does at creation (the whole batch is refused with a 400) and turns
 * each request into the engine's request, its fate chosen from its custom_id or a marker in its params, and the
 * plan of its answer. The fate "invalid" makes a request that fails once the batch runs, as Anthropic reports bad
 * params per request.
 */
export function parseCreateBody(
  body: unknown,
  options: CreateOptions,
): { requests: CreateRequest[]; simRequests: SimRequest[]; plans: AnswerPlan[] } {
  if (!isObject(body) || !Array.isArray(body.requests)) throw invalid("requests: Field required");
  if (body.requests.length === 0) throw invalid("requests: List should have at least 1 item");
  if (body.requests.length > MAX_REQUESTS) {
    throw invalid(`requests: a Message Batch may hold at most ${MAX_REQUESTS} requests`);
  }
  const seen = new Set<string>();
  const requests: CreateRequest[] = [];
  const simRequests: SimRequest[] = [];
  const plans: AnswerPlan[] = [];
  body.requests.forEach((entry: unknown, index: number) => {
    const where = `requests.${index}`;
    if (!isObject(entry)) throw invalid(`${where}: Input should be an object`);
    const customId = entry.custom_id;
    if (typeof customId !== "string") throw invalid(`${where}.custom_id: Field required`);
    if (!CUSTOM_ID_PATTERN.test(customId)) {
      throw invalid(`${where}.custom_id: String should match pattern '${CUSTOM_ID_PATTERN.source}'`);
    }
    if (seen.has(customId)) {
      throw invalid(
        `${where}.custom_id: '${customId}' is used more than once; custom_id must be unique within a batch`,
      );
    }
    seen.add(customId);
    const params = checkParams(entry.params, `${where}.params`);
    const bodyText = JSON.stringify(params);
    const fate = options.fateOf(customId, bodyText);
    const rejection = refusedParams(params, options.apiVersion);
    const markers = options.outputs.take(customId, bodyText);
    plans.push(planAnswer(params, { seed: `${customId}\n${bodyText}`, markers, ...options }));
    requests.push({ custom_id: customId, params });
    simRequests.push({
      customId,
      model: params.model,
      promptText: promptTextOf(params.messages),
      maxTokens: params.max_tokens,
      fate: fate === "invalid" ? "fail" : fate,
      ...(rejection ? { rejection } : {}),
    });
  });
  return { requests, simRequests, plans };
}
