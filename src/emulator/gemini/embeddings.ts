import { estimateTokens } from "../completion.js";
import type { RequestFate } from "../fates.js";
import { defaultDimensions, fakeVector } from "../structured.js";
import { checkBatchModel, fieldsOf, isObject, RequestProblem } from "./fields.js";
import { type BatchInput, checkedLine, eachKeyedLine, emptyInput } from "./input.js";

/**
 * Gemini's batch embeddings (`models/{model}:asyncBatchEmbedContent`): EmbedContentRequests inline or as lines
 * `{"key", "request"}` of an uploaded file, answered with `{"embedding": {"values"}, "tokenCount"}`.
 */

type Json = Record<string, unknown>;

const EMBED_FIELDS = ["model", "content", "taskType", "title", "outputDimensionality"] as const;
const CONTENT_FIELDS = ["role", "parts"] as const;
const TASK_TYPES = new Set([
  "TASK_TYPE_UNSPECIFIED",
  "RETRIEVAL_QUERY",
  "RETRIEVAL_DOCUMENT",
  "SEMANTIC_SIMILARITY",
  "CLASSIFICATION",
  "CLUSTERING",
  "QUESTION_ANSWERING",
  "FACT_VERIFICATION",
  "CODE_RETRIEVAL_QUERY",
]);
/** Models that embed (anything else is not found for asyncBatchEmbedContent). */
export const EMBEDDING_MODELS = /^(gemini-embedding|text-embedding|embedding)-[a-z0-9.-]+$/i;

/** Vector lengths by model: the default, and the largest `outputDimensionality` asked for. */
function dimensionsOf(model: string): { byDefault: number; max: number } {
  if (/^gemini-embedding/.test(model)) return { byDefault: 3072, max: 3072 };
  const byDefault = defaultDimensions(model);
  return { byDefault, max: byDefault };
}

export interface EmbedRequest {
  text: string;
  dimensions: number;
}

/** Checks an EmbedContentRequest as the API parses it; throws RequestProblem. */
export function checkEmbedContentRequest(value: unknown, where: string, batchModel: string): EmbedRequest {
  const request = fieldsOf(value, EMBED_FIELDS, where);
  checkBatchModel(request.model, where, batchModel);
  const content = fieldsOf(request.content, CONTENT_FIELDS, `${where}.content`);
  if (!Array.isArray(content.parts) || content.parts.length === 0) {
    throw new RequestProblem(`* EmbedContentRequest.${where}.content.parts: must not be empty.`);
  }
  const texts = content.parts.map((part, index) => {
    if (!isObject(part))
      throw new RequestProblem(`Invalid value at '${where}.content.parts[${index}]': expected an object.`);
    return typeof part.text === "string" ? part.text : "";
  });
  if (request.taskType !== undefined && !TASK_TYPES.has(String(request.taskType))) {
    throw new RequestProblem(
      `Invalid value at '${where}.task_type' (type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), ${JSON.stringify(request.taskType)}`,
    );
  }
  const model = batchModel.replace(/^models\//, "");
  const { byDefault, max } = dimensionsOf(model);
  const asked = request.outputDimensionality;
  if (asked !== undefined && (!Number.isInteger(asked) || (asked as number) < 1 || (asked as number) > max)) {
    // UNVERIFIED wording.
    throw new RequestProblem(
      `* EmbedContentRequest.${where}.output_dimensionality: must be from 1 to ${max} for ${model}, not ${JSON.stringify(asked)}.`,
    );
  }
  return { text: texts.join(""), dimensions: (asked as number | undefined) ?? byDefault };
}

interface Options {
  model: string;
  fateOf: (customId: string, bodyText: string) => RequestFate;
}

function push(
  input: BatchInput,
  embeds: EmbedRequest[],
  key: string,
  embed: EmbedRequest,
  options: Options,
  fate: RequestFate,
) {
  input.requests.push({
    customId: key,
    model: options.model.replace(/^models\//, ""),
    promptText: embed.text,
    fate,
  });
  embeds.push(embed);
}

/** Inline embedding requests: any problem refuses the create call. */
export function parseInlineEmbeddings(
  value: unknown,
  options: Options,
): { input: BatchInput; embeds: EmbedRequest[] } {
  const where = "batch.input_config.requests";
  const wrapper = fieldsOf(value, ["requests"], where);
  if (!Array.isArray(wrapper.requests) || wrapper.requests.length === 0) {
    throw new RequestProblem(`* AsyncBatchEmbedContentRequest.${where}.requests: must not be empty.`);
  }
  const input = emptyInput();
  const embeds: EmbedRequest[] = [];
  wrapper.requests.forEach((entry, index) => {
    const at = `${where}.requests[${index}]`;
    const item = fieldsOf(entry, ["request", "metadata"], at);
    if (item.metadata !== undefined && !isObject(item.metadata)) {
      throw new RequestProblem(
        `Invalid value at '${at}.metadata' (type.googleapis.com/google.protobuf.Struct)`,
      );
    }
    const metadata = item.metadata as Json | undefined;
    const key = typeof metadata?.key === "string" ? metadata.key : `#${index}`;
    const embed = checkEmbedContentRequest(item.request, `${at}.request`, options.model);
    const fate = options.fateOf(key, JSON.stringify(item.request));
    push(input, embeds, key, embed, options, fate === "invalid" ? "fail" : fate);
    input.metadata.push(metadata);
  });
  return { input, embeds };
}

/** An input file of embedding requests: a line that is not JSON or has no key fails the batch; a bad request, its line. */
export function parseEmbeddingsFile(
  text: string,
  options: Options,
): { input: BatchInput; embeds: EmbedRequest[] } {
  const input = emptyInput();
  const embeds: EmbedRequest[] = [];
  eachKeyedLine(text, input, (line, raw) => {
    const fate = options.fateOf(line.key, raw);
    const { checked: embed, refused } = checkedLine(input, line, () =>
      checkEmbedContentRequest(line.request, "request", options.model),
    );
    const runs = refused || fate === "invalid" ? "fail" : fate;
    push(input, embeds, line.key, embed ?? { text: "", dimensions: 0 }, options, runs);
    input.metadata.push(undefined);
  });
  return { input, embeds };
}

/** A SingleEmbedContentResponse: the text's deterministic vector, and its tokens (int64, so a string). */
export function embedResponse(embed: EmbedRequest) {
  return {
    embedding: { values: fakeVector(embed.text, embed.dimensions) },
    tokenCount: String(estimateTokens(embed.text)),
  };
}
