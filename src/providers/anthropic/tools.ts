import { ValidationError } from "../../errors.js";
import { type ResolvedFormat, resolveResponseFormat } from "../../requests/format.js";
import type { BatchRequest, ToolChoice } from "../../types.js";
import { toOutputSchema } from "./output-schema.js";

type Json = Record<string, unknown>;

const unsupported = (message: string) => new ValidationError(message, "unsupported_feature");

/** A tool's input schema: Anthropic takes object schemas only (`input_schema.type: "object"`). */
function inputSchemaOf(schema: Json, where: string): Json {
  if (schema.type === undefined) return { type: "object", ...schema };
  if (schema.type !== "object") {
    throw unsupported(`${where} must be an object schema ({ type: "object", properties }) for Anthropic.`);
  }
  return schema;
}

function toolChoiceOf(choice: ToolChoice): Json {
  if (choice === "auto") return { type: "auto" };
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any" };
  return { type: "tool", name: choice.name };
}

/** The request's structured output, if any, with its schema checked for what Anthropic can take. */
export function formatOf(request: BatchRequest): ResolvedFormat | undefined {
  if (request.responseFormat === undefined) return undefined;
  const format = resolveResponseFormat(request.responseFormat, `request "${request.id}"`);
  const { type, properties } = format.schema;
  if (type !== "object" && !(type === undefined && properties !== undefined)) {
    throw unsupported(
      `request "${request.id}": Anthropic's structured output takes an object schema at the top level; wrap the ` +
        "value in an object.",
    );
  }
  return format;
}

/**
 * `tools`, `tool_choice` and `output_config` of a request. Structured output goes by `output_config.format`
 * (constrained decoding, generally available, taken by Message Batches like every Messages parameter) unless the
 * format says `strict: false`: then by a forced tool named after the schema, whose call's input is the answer
 * (for models without structured outputs). Either way Relay checks the answer against the schema given.
 */
export function anthropicTools(request: BatchRequest, format: ResolvedFormat | undefined): Json {
  const label = `request "${request.id}"`;
  const params: Json = {};
  const tools: Json[] = (request.tools ?? []).map((tool, index) => ({
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    input_schema: inputSchemaOf(tool.parameters, `${label}: tools[${index}].parameters`),
  }));
  if (request.toolChoice !== undefined) params.tool_choice = toolChoiceOf(request.toolChoice);
  if (format?.strict) {
    params.output_config = { format: { type: "json_schema", schema: toOutputSchema(format.schema) } };
  } else if (format) {
    if (request.toolChoice !== undefined) {
      throw unsupported(
        `${label}: a responseFormat with strict: false is asked for by forcing a tool on Anthropic, which leaves ` +
          "no room for toolChoice. Leave toolChoice out, or make the format strict.",
      );
    }
    if (tools.some((tool) => tool.name === format.name)) {
      throw unsupported(`${label}: a tool is named "${format.name}" like the responseFormat; rename one.`);
    }
    const { $schema: _dialect, ...schema } = format.schema;
    tools.push({
      name: format.name,
      description: "Give the answer as this tool's input, in the schema's shape.",
      input_schema: inputSchemaOf(schema, `${label}: responseFormat.schema`),
    });
    params.tool_choice = { type: "tool", name: format.name };
  }
  if (tools.length > 0) params.tools = tools;
  return params;
}
