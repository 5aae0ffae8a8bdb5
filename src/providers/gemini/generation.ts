import { ValidationError } from "../../errors.js";
import { resolveResponseFormat } from "../../requests/format.js";
import type { BatchRequest, ReasoningEffort } from "../../types.js";
import { toGeminiSchema } from "./schema.js";

type Json = Record<string, unknown>;

/** Gemini takes at most 5 stop sequences. */
const MAX_STOP_SEQUENCES = 5;

/** Gemini 2.5 models think within a token budget (`thinkingBudget`); this table is Relay's, within every 2.5 model's range. */
export const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  minimal: 512,
  low: 2048,
  medium: 8192,
  high: 24_576,
};
/** Gemini 3 models take a level (`thinkingLevel`); Gemini 3 Pro only LOW and HIGH. */
const THINKING_LEVELS: Readonly<Record<ReasoningEffort, string>> = {
  minimal: "MINIMAL",
  low: "LOW",
  medium: "MEDIUM",
  high: "HIGH",
};
const PRO_LEVELS: Readonly<Record<ReasoningEffort, string>> = {
  minimal: "LOW",
  low: "LOW",
  medium: "HIGH",
  high: "HIGH",
};

const modelName = (model: string) => model.replace(/^(models|tunedModels)\//, "");

/** Models before Gemini 3 refuse function calling together with a JSON response ("… is unsupported"). */
export const refusesToolsWithJson = (model: string) => /^gemini-(1|2)\./.test(modelName(model));

/**
 * `thinkingConfig` for a reasoningEffort, by model generation: Gemini 2.5 takes `thinkingBudget` (the table
 * above), Gemini 3 and later `thinkingLevel` (the two cannot be sent together). Models that do not think (Gemini
 * 1.x and 2.0, Gemma) are refused.
 */
export function thinkingConfigOf(request: BatchRequest, effort: ReasoningEffort): Json {
  const model = modelName(request.model);
  if (/^gemini-(1\.|2\.0)|^gemma/.test(model)) {
    throw new ValidationError(
      `request "${request.id}": ${model} does not think; reasoningEffort needs Gemini 2.5 or later.`,
      "unsupported_feature",
    );
  }
  if (/^gemini-2\.5/.test(model)) return { thinkingBudget: THINKING_BUDGETS[effort] };
  const levels = /^gemini-3(\.\d+)?-pro/.test(model) ? PRO_LEVELS : THINKING_LEVELS;
  return { thinkingLevel: levels[effort] };
}

/**
 * The generation settings Relay sets: `maxOutputTokens`, sampling, `seed`, thinking, and structured output as
 * `responseMimeType: "application/json"` with `responseSchema` (Gemini's own Schema, converted from the JSON
 * Schema). Not `responseJsonSchema`: a public report (crmne/ruby_llm#894, 2026-08) found it honoured by
 * generateContent but answered with degenerate JSON by batchGenerateContent (0 of 502 responses in shape), while
 * `responseSchema` gave correct answers on both.
 */
export function generationConfigOf(request: BatchRequest): Json {
  const config: Json = {};
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.stopSequences !== undefined) {
    if (request.stopSequences.length > MAX_STOP_SEQUENCES) {
      throw new ValidationError(
        `request "${request.id}": Gemini takes at most ${MAX_STOP_SEQUENCES} stopSequences.`,
        "unsupported_feature",
      );
    }
    config.stopSequences = request.stopSequences;
  }
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.responseFormat !== undefined) {
    const label = `request "${request.id}"`;
    const format = resolveResponseFormat(request.responseFormat, label);
    if (request.tools !== undefined && refusesToolsWithJson(request.model)) {
      throw new ValidationError(
        `${label}: ${modelName(request.model)} cannot combine tools with a responseFormat (Gemini answers ` +
          `"Function calling with a response mime type: 'application/json' is unsupported"); use one or the other.`,
        "unsupported_feature",
      );
    }
    config.responseMimeType = "application/json";
    config.responseSchema = toGeminiSchema(format.schema, `${label}: responseFormat.schema`);
  }
  if (request.reasoningEffort !== undefined)
    config.thinkingConfig = thinkingConfigOf(request, request.reasoningEffort);
  return config;
}
