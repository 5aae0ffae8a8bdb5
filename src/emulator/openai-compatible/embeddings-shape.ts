import { embeddingDimensions, type ReplyPlan } from "../reply.js";
import { type Json, Problems, type ShapeProblem } from "./problems.js";

/** How one provider's embeddings API checks a body. */
export interface EmbeddingsShapeRules {
  /** Every field the body may hold (the request schema forbids others). */
  fields: readonly string[];
  /** The field of the vector's length. */
  dimensionsField: string;
  /** Whether `model` must be in the body (Mistral's batch lines may leave it to the job). */
  modelRequired: boolean;
  /** Models whose vectors cannot be shortened. */
  fixedDimensions?: RegExp;
}

/** What an embeddings answer is made of. */
export type EmbeddingPlan = Pick<ReplyPlan, "embedding"> & { images: 0 };

/**
 * Checks an embeddings body (`{model, input, dimensions?}`) as the provider's API does: known fields only, a
 * non-empty string or list of strings to embed, a positive vector length where the model can shorten it.
 */
export function checkEmbeddingsBody(
  body: Json,
  model: string,
  rules: EmbeddingsShapeRules,
): { problems: ShapeProblem[]; plan: EmbeddingPlan } {
  const problems = new Problems();
  problems.keys(body, rules.fields, []);
  if (rules.modelRequired) problems.string(body.model, ["model"]);
  const input = body.input;
  let inputs: string[] = [];
  if (typeof input === "string") inputs = [input];
  else if (Array.isArray(input) && input.every((item) => typeof item === "string"))
    inputs = input as string[];
  else if (input === undefined) problems.add(["input"], "missing", "Missing required parameter: 'input'.");
  else
    problems.add(
      ["input"],
      "invalid_type",
      "Invalid type for 'input': expected a string or an array of strings.",
    );
  if (input !== undefined && (inputs.length === 0 || inputs.some((text) => text === ""))) {
    problems.add(
      ["input"],
      "invalid_value",
      "'$.input' is invalid. Please check the API reference: the input cannot be an empty string.",
    );
  }
  const field = rules.dimensionsField;
  const dimensions = body[field];
  if (dimensions !== undefined && dimensions !== null) {
    if (!Number.isInteger(dimensions) || (dimensions as number) < 1) {
      problems.add([field], "invalid_value", `Invalid '${field}': expected an integer of at least 1.`);
    } else if (rules.fixedDimensions?.test(model)) {
      problems.add([field], "invalid_value", "This model does not support specifying dimensions.");
    }
  }
  return {
    problems: problems.list,
    plan: { images: 0, embedding: { inputs, dimensions: embeddingDimensions(model, dimensions) } },
  };
}

/** OpenAI's CreateEmbeddingRequest (`additionalProperties: false`). */
export const OPENAI_EMBEDDINGS_SHAPE: EmbeddingsShapeRules = {
  fields: ["input", "model", "encoding_format", "dimensions", "user"],
  dimensionsField: "dimensions",
  modelRequired: true,
  fixedDimensions: /^text-embedding-ada-/,
};
