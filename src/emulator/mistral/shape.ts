import type { ChatShapeRules } from "../openai-compatible/chat-shape.js";
import type { EmbeddingsShapeRules } from "../openai-compatible/embeddings-shape.js";
import type { ShapeProblem } from "../openai-compatible/problems.js";
import type { ValidationDetail } from "./errors.js";

/**
 * Mistral's ChatCompletionRequest (mistral-openapi.yaml): `json_schema` needs `name` and `schema` and forbids
 * other keys, tool choice adds "any", a tool's `type` defaults to "function" and its function needs `parameters`,
 * `image_url` may be the URL itself, `reasoning_effort` is "high" or "none", `random_seed` is at least 0.
 */
export const MISTRAL_CHAT_SHAPE: ChatShapeRules = {
  schemaRequired: true,
  strictSubset: false,
  toolChoiceModes: new Set(["auto", "none", "any", "required"]),
  toolTypeOptional: true,
  parametersRequired: true,
  choiceNeedsTools: false,
  imageUrlString: true,
  reasoningEfforts: new Set(["high", "none"]),
  seedField: "random_seed",
  minSeed: 0,
};

/** Mistral's EmbeddingRequest (`additionalProperties: false`); in a batch line the model is the job's. */
export const MISTRAL_EMBEDDINGS_SHAPE: EmbeddingsShapeRules = {
  fields: ["model", "metadata", "input", "output_dimension", "output_dtype", "encoding_format"],
  dimensionsField: "output_dimension",
  modelRequired: false,
};

const PYDANTIC: Record<ShapeProblem["kind"], { type: string; msg?: string }> = {
  missing: { type: "missing", msg: "Field required" },
  unknown: { type: "extra_forbidden", msg: "Extra inputs are not permitted" },
  invalid_type: { type: "model_type" },
  invalid_value: { type: "value_error" },
};

/** Problems as the 422 detail entries Mistral's API answers: `{type, loc: ["body", …], msg, input}`. */
export function validationDetails(problems: readonly ShapeProblem[], body: unknown): ValidationDetail[] {
  return problems.map((problem) => {
    const { type, msg } = PYDANTIC[problem.kind];
    let input: unknown = body;
    for (const part of problem.path.slice(0, -1))
      input = (input as Record<string | number, unknown> | undefined)?.[part];
    return { type, loc: ["body", ...problem.path], msg: msg ?? problem.message, input };
  });
}
