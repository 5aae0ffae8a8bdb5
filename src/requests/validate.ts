import { ValidationError } from "../errors.js";
import type { BatchRequest, ContentPart, EmbeddingRequest } from "../types.js";
import { resolveResponseFormat } from "./format.js";

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const EFFORTS = new Set(["minimal", "low", "medium", "high"]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Checks one content part of a message. */
export function validatePart(part: ContentPart, where: string): void {
  if (!isObject(part)) throw new ValidationError(`${where} must be a content part object.`);
  if (part.type === "text") {
    if (typeof part.text !== "string") throw new ValidationError(`${where}.text must be a string.`);
    return;
  }
  if (part.type !== "image") {
    throw new ValidationError(
      `${where}.type must be "text" or "image", not ${JSON.stringify((part as { type?: unknown }).type)}.`,
    );
  }
  if ("url" in part) {
    if (typeof part.url !== "string" || !/^(https?:\/\/|data:image\/)/.test(part.url)) {
      throw new ValidationError(`${where}.url must be an http(s) URL or a data:image/… URL.`);
    }
    return;
  }
  if (typeof part.mediaType !== "string" || !/^image\/[a-z0-9.+-]+$/.test(part.mediaType)) {
    throw new ValidationError(`${where}.mediaType must be an image type such as "image/png".`);
  }
  if (
    typeof part.data !== "string" ||
    part.data === "" ||
    part.data.length % 4 !== 0 ||
    !BASE64.test(part.data)
  ) {
    throw new ValidationError(`${where}.data must be base64 (no data: prefix; give that as url instead).`);
  }
}

/** Checks the generation options, tools and response format of a request (not what the provider supports). */
export function validateRequestOptions(request: BatchRequest, label: string): void {
  const number = (name: keyof BatchRequest, ok: (value: number) => boolean, rule: string) => {
    const value = request[name];
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isFinite(value) || !ok(value)) {
      throw new ValidationError(`${label}: ${name} must be ${rule}, not ${JSON.stringify(value)}.`);
    }
  };
  number("temperature", (value) => value >= 0 && value <= 2, "a number from 0 to 2");
  number("topP", (value) => value > 0 && value <= 1, "a number above 0 and at most 1");
  number("seed", Number.isSafeInteger, "an integer");
  if (request.stopSequences !== undefined) {
    if (
      !Array.isArray(request.stopSequences) ||
      request.stopSequences.length === 0 ||
      !request.stopSequences.every((stop) => typeof stop === "string" && stop !== "")
    ) {
      throw new ValidationError(`${label}: stopSequences must be a non-empty list of non-empty strings.`);
    }
  }
  if (request.reasoningEffort !== undefined && !EFFORTS.has(request.reasoningEffort)) {
    throw new ValidationError(`${label}: reasoningEffort must be one of ${[...EFFORTS].join(", ")}.`);
  }
  if (request.cacheSystemPrompt !== undefined && typeof request.cacheSystemPrompt !== "boolean") {
    throw new ValidationError(`${label}: cacheSystemPrompt must be true or false.`);
  }
  if (request.cacheSystemPrompt && !request.systemPrompt) {
    throw new ValidationError(`${label}: cacheSystemPrompt needs a systemPrompt to cache.`);
  }
  const names = new Set<string>();
  if (request.tools !== undefined) {
    if (!Array.isArray(request.tools) || request.tools.length === 0) {
      throw new ValidationError(
        `${label}: tools must be a non-empty list of { name, description?, parameters }.`,
      );
    }
    request.tools.forEach((tool, index) => {
      const where = `${label}: tools[${index}]`;
      if (!isObject(tool) || typeof tool.name !== "string" || !TOOL_NAME.test(tool.name)) {
        throw new ValidationError(`${where}.name must be 1 to 64 letters, digits, "_" or "-".`);
      }
      if (names.has(tool.name)) throw new ValidationError(`${where}.name "${tool.name}" is used twice.`);
      names.add(tool.name);
      if (tool.description !== undefined && typeof tool.description !== "string") {
        throw new ValidationError(`${where}.description must be a string.`);
      }
      if (!isObject(tool.parameters))
        throw new ValidationError(`${where}.parameters must be a JSON Schema object.`);
    });
  }
  const choice = request.toolChoice;
  if (choice !== undefined) {
    const named = isObject(choice) && typeof choice.name === "string";
    if (!named && choice !== "auto" && choice !== "none" && choice !== "required") {
      throw new ValidationError(`${label}: toolChoice must be "auto", "none", "required" or { name }.`);
    }
    if (choice !== "none" && names.size === 0) throw new ValidationError(`${label}: toolChoice needs tools.`);
    if (named && !names.has(choice.name)) {
      throw new ValidationError(`${label}: toolChoice names "${choice.name}", which is not among the tools.`);
    }
  }
  if (request.responseFormat !== undefined) resolveResponseFormat(request.responseFormat, label);
}

/** Checks one text to embed. */
export function validateEmbeddingRequest(request: EmbeddingRequest, label: string): void {
  if (!isObject(request)) throw new ValidationError(`${label} is not an object.`);
  if (typeof request.model !== "string" || request.model.trim() === "") {
    throw new ValidationError(`${label} has no model.`);
  }
  if (typeof request.input !== "string" || request.input === "") {
    throw new ValidationError(`${label}: input must be a non-empty string (the text to embed).`);
  }
  if (!request.input.isWellFormed()) {
    throw new ValidationError(
      `${label}: input contains invalid Unicode (an unpaired surrogate).`,
      "invalid_text",
    );
  }
  if (request.dimensions !== undefined && (!Number.isInteger(request.dimensions) || request.dimensions < 1)) {
    throw new ValidationError(`${label}: dimensions must be a positive integer.`);
  }
  if (request.providerArgs !== undefined && !isObject(request.providerArgs)) {
    throw new ValidationError(`${label}: providerArgs must be an object.`);
  }
}
