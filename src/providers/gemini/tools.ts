import { ValidationError } from "../../errors.js";
import type { BatchRequest, ToolChoice } from "../../types.js";
import { toGeminiSchema } from "./schema.js";

type Json = Record<string, unknown>;

/** FunctionDeclaration.name: "Must start with a letter or an underscore", then letters, digits, _ . : -. */
const FUNCTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/;

function modeOf(choice: ToolChoice): Json {
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "none") return { mode: "NONE" };
  if (choice === "required") return { mode: "ANY" };
  return { mode: "ANY", allowedFunctionNames: [choice.name] };
}

/** Whether a parameters schema takes no arguments: then the declaration leaves `parameters` out, as Gemini asks. */
function takesNothing(schema: Json): boolean {
  const properties = schema.properties;
  return (
    (schema.type === undefined || schema.type === "object") &&
    (properties === undefined ||
      (typeof properties === "object" && properties !== null && Object.keys(properties).length === 0))
  );
}

/**
 * `tools: [{functionDeclarations}]` and `toolConfig.functionCallingConfig` of a request. Parameters go as Gemini's
 * Schema (`parameters`), converted as for `responseSchema`; `toolChoice` becomes the mode AUTO, NONE or ANY, and a
 * named tool ANY limited to it by `allowedFunctionNames`.
 */
export function geminiTools(request: BatchRequest): Json {
  const label = `request "${request.id}"`;
  const out: Json = {};
  if (request.tools !== undefined) {
    const functionDeclarations = request.tools.map((tool, index) => {
      if (!FUNCTION_NAME.test(tool.name)) {
        throw new ValidationError(
          `${label}: tools[${index}].name must start with a letter or an underscore for Gemini.`,
          "unsupported_feature",
        );
      }
      return {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(takesNothing(tool.parameters)
          ? {}
          : { parameters: toGeminiSchema(tool.parameters, `${label}: tools[${index}].parameters`) }),
      };
    });
    out.tools = [{ functionDeclarations }];
  }
  if (request.toolChoice !== undefined)
    out.toolConfig = { functionCallingConfig: modeOf(request.toolChoice) };
  return out;
}
