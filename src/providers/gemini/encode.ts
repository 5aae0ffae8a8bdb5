import type { BatchRequest, EmbeddingRequest } from "../../types.js";
import { asObject } from "../shared/json.js";
import { geminiConversation } from "./content.js";
import { generationConfigOf } from "./generation.js";
import { geminiTools } from "./tools.js";

/** The resource name of a model as the API takes it ("gemini-2.5-flash" → "models/gemini-2.5-flash"). */
export function modelResource(model: string): string {
  return model.startsWith("models/") || model.startsWith("tunedModels/") ? model : `models/${model}`;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** Relay's fields without those the caller gives in either spelling (the API reads both, and refuses a field twice). */
function withoutGiven(
  fields: Record<string, unknown>,
  given: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([name]) => !(name in given) && !(snake(name) in given)),
  );
}

/**
 * The GenerateContentRequest of one request: the fields Relay sets, then `providerArgs` over them under the
 * API's own names. The API reads both camelCase and snake_case names, so a field the caller gives in either
 * spelling replaces Relay's; `generationConfig` is merged instead, so that Relay's settings (maxTokens, sampling,
 * structured output, thinking) and the caller's generation settings both apply, the caller's winning.
 */
export function geminiRequestBody(request: BatchRequest): Record<string, unknown> {
  const args = { ...request.providerArgs };
  const { system, contents } = geminiConversation(request);
  const body: Record<string, unknown> = {
    model: modelResource(request.model),
    contents,
    ...(system === undefined ? {} : { systemInstruction: { parts: [{ text: system }] } }),
    ...geminiTools(request),
  };
  const configKey = "generation_config" in args ? "generation_config" : "generationConfig";
  const callerConfig = asObject(args[configKey]) ?? {};
  const config = { ...withoutGiven(generationConfigOf(request), callerConfig), ...callerConfig };
  delete args[configKey];
  if (Object.keys(config).length > 0) body[configKey] = config;
  return { ...withoutGiven(body, args), ...args };
}

/** One line of a shard, in the batch input file format: `{"key", "request"}`. */
export function encodeGeminiLine(request: BatchRequest): string {
  return JSON.stringify({ key: request.id, request: geminiRequestBody(request) });
}

/**
 * One line of an embeddings shard: `{"key", "request": EmbedContentRequest}` with the text as one part and the
 * vector's length as `outputDimensionality`; `providerArgs` (e.g. `taskType`, `title`) go into the request.
 */
export function encodeGeminiEmbeddingLine(request: EmbeddingRequest): string {
  const fields: Record<string, unknown> = {
    model: modelResource(request.model),
    content: { parts: [{ text: request.input }] },
    ...(request.dimensions === undefined ? {} : { outputDimensionality: request.dimensions }),
  };
  const args = request.providerArgs ?? {};
  return JSON.stringify({ key: request.id, request: { ...withoutGiven(fields, args), ...args } });
}
