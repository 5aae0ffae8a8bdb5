import { ValidationError } from "../errors.js";
import type { ProviderLimits } from "../providers/types.js";
import { validatePart, validateRequestOptions } from "../requests/validate.js";
import type { BatchRequest } from "../types.js";

const ROLES = new Set(["system", "user", "assistant"]);

export function describeRequest(request: unknown, position: number): string {
  const id = (request as { id?: unknown } | null)?.id;
  return typeof id === "string" ? `request "${id}" (#${position + 1})` : `request #${position + 1}`;
}

/** Throws if a value holds something JSON cannot carry faithfully (NaN, Infinity, functions, cycles). */
function assertPlainJson(value: unknown, where: string, seen = new Set<unknown>()): void {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new ValidationError(`${where} is ${value}, which JSON cannot represent.`);
  }
  if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
    throw new ValidationError(`${where} is a ${typeof value}, which JSON cannot represent.`);
  }
  if (value !== null && typeof value === "object") {
    if (seen.has(value)) throw new ValidationError(`${where} contains a circular reference.`);
    seen.add(value);
    for (const [key, inner] of Object.entries(value)) assertPlainJson(inner, `${where}.${key}`, seen);
    seen.delete(value);
  }
}

function* textFields(request: BatchRequest): Generator<[string, string]> {
  if (typeof request.prompt === "string") yield ["prompt", request.prompt];
  if (typeof request.systemPrompt === "string") yield ["systemPrompt", request.systemPrompt];
  for (const [index, message] of (request.messages ?? []).entries()) {
    if (typeof message.content === "string") yield [`messages[${index}].content`, message.content];
    else
      for (const [part, piece] of message.content.entries())
        if (piece.type === "text") yield [`messages[${index}].content[${part}].text`, piece.text];
  }
}

/** Checks that a request (of any kind) is an object whose id the provider takes as custom_id. */
export function validateRequestId(
  request: { id?: unknown } | null,
  label: string,
  limits: ProviderLimits,
  provider: string,
): void {
  if (request === null || typeof request !== "object")
    throw new ValidationError(`${label} is not an object.`);
  if (typeof request.id !== "string" || request.id === "") {
    throw new ValidationError(
      `${label} has no id; every request needs a unique string id.`,
      "invalid_request_id",
    );
  }
  if (!limits.customIdPattern.test(request.id)) {
    throw new ValidationError(
      `${label}: ${provider} would reject the id "${request.id}" as custom_id; it must be ${limits.customIdRule}.`,
      "invalid_request_id",
    );
  }
}

/** Checks one request against Relay's rules and the provider's. Throws a ValidationError naming the request. */
export function validateRequest(
  request: BatchRequest,
  position: number,
  limits: ProviderLimits,
  provider: string,
): void {
  const label = describeRequest(request, position);
  validateRequestId(request, label, limits, provider);
  if (typeof request.model !== "string" || request.model.trim() === "") {
    throw new ValidationError(`${label} has no model.`);
  }
  const hasPrompt = typeof request.prompt === "string" && request.prompt !== "";
  if (request.prompt !== undefined && typeof request.prompt !== "string") {
    throw new ValidationError(`${label}: prompt must be a string.`);
  }
  if (request.messages !== undefined) {
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      throw new ValidationError(`${label}: messages must be a non-empty array.`);
    }
    request.messages.forEach((message, index) => {
      const content = message?.content;
      if (!message || !ROLES.has(message.role) || (typeof content !== "string" && !Array.isArray(content))) {
        throw new ValidationError(
          `${label}: messages[${index}] must be {role: "system" | "user" | "assistant", content: string | parts}.`,
        );
      }
      if (Array.isArray(content)) {
        if (content.length === 0) throw new ValidationError(`${label}: messages[${index}].content is empty.`);
        for (const [at, part] of content.entries())
          validatePart(part, `${label}: messages[${index}].content[${at}]`);
      }
    });
  } else if (!hasPrompt) {
    throw new ValidationError(`${label} has no prompt (give prompt, or messages for a conversation).`);
  }
  if (request.systemPrompt !== undefined && typeof request.systemPrompt !== "string") {
    throw new ValidationError(`${label}: systemPrompt must be a string.`);
  }
  for (const [field, text] of textFields(request)) {
    if (!text.isWellFormed()) {
      throw new ValidationError(
        `${label}: ${field} contains invalid Unicode (an unpaired surrogate).`,
        "invalid_text",
      );
    }
  }
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)) {
    throw new ValidationError(`${label}: maxTokens must be a positive integer, not ${request.maxTokens}.`);
  }
  if (request.providerArgs !== undefined) {
    if (
      request.providerArgs === null ||
      typeof request.providerArgs !== "object" ||
      Array.isArray(request.providerArgs)
    ) {
      throw new ValidationError(`${label}: providerArgs must be an object.`);
    }
    assertPlainJson(request.providerArgs, `${label}: providerArgs`);
  }
  validateRequestOptions(request, label);
}

export function checkEncodedSize(
  line: string,
  request: { id?: unknown },
  position: number,
  limits: ProviderLimits,
): number {
  const bytes = Buffer.byteLength(line) + 1;
  if (bytes > limits.maxBytesPerRequest) {
    throw new ValidationError(
      `${describeRequest(request, position)} is ${bytes} bytes encoded; the provider accepts at most ${limits.maxBytesPerRequest}.`,
      "request_too_large",
    );
  }
  return bytes;
}
