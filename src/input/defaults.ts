import type { BatchRequest, JsonSchemaFormat } from "../types.js";

/** Values for the fields a request read from a file does not set itself (`relay submit --model …`). */
export interface RequestDefaults {
  model?: string;
  systemPrompt?: string;
  maxTokens?: number;
  /** Structured output for every request that asks for none (`relay submit --schema FILE`). */
  responseFormat?: JsonSchemaFormat;
}

/** The request with each default filled in where the request has no value of its own. */
export function withDefaults(request: BatchRequest, defaults: RequestDefaults): BatchRequest {
  const filled = { ...request };
  if (filled.model === undefined && defaults.model !== undefined) filled.model = defaults.model;
  if (filled.systemPrompt === undefined && defaults.systemPrompt !== undefined)
    filled.systemPrompt = defaults.systemPrompt;
  if (filled.maxTokens === undefined && defaults.maxTokens !== undefined)
    filled.maxTokens = defaults.maxTokens;
  // The same object for every request, so that the job stores the schema once.
  if (filled.responseFormat === undefined && defaults.responseFormat !== undefined)
    filled.responseFormat = defaults.responseFormat;
  return filled;
}

/** Applies the defaults to every request of a stream. */
export async function* applyDefaults(
  requests: AsyncIterable<BatchRequest>,
  defaults: RequestDefaults,
): AsyncGenerator<BatchRequest> {
  for await (const request of requests) yield withDefaults(request, defaults);
}
