import { fieldsOf, RequestProblem } from "./fields.js";
import { checkSchema } from "./schema-check.js";

/**
 * Checks of a GenerateContentRequest's parts, tools, tool config and generation settings beyond the fields' names,
 * as the API applies them (RequestProblem with its wording; wording not seen in a public source is UNVERIFIED).
 */

type Json = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const FUNCTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/;
const TOOL_FIELDS = [
  "functionDeclarations",
  "googleSearchRetrieval",
  "codeExecution",
  "googleSearch",
  "urlContext",
  "fileSearch",
  "googleMaps",
  "computerUse",
] as const;
const FUNCTION_FIELDS = [
  "name",
  "description",
  "behavior",
  "parameters",
  "parametersJsonSchema",
  "response",
  "responseJsonSchema",
] as const;
const TOOL_CONFIG_FIELDS = [
  "functionCallingConfig",
  "retrievalConfig",
  "includeServerSideToolInvocations",
] as const;
const CALLING_FIELDS = ["mode", "allowedFunctionNames", "streamFunctionCallArguments"] as const;
const MODES = new Set(["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]);
const THINKING_FIELDS = ["includeThoughts", "thinkingBudget", "thinkingLevel"] as const;
const LEVELS = new Set(["THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"]);
const MIME_TYPES = new Set([
  "text/plain",
  "application/json",
  "application/xml",
  "application/yaml",
  "text/x.enum",
]);

/** `inlineData` (a Blob: base64 data and a MIME type) and `fileData` (a Files API URI). */
export function checkPartData(part: Json, where: string): void {
  if (part.inlineData !== undefined) {
    const blob = fieldsOf(part.inlineData, ["mimeType", "data", "displayName"], `${where}.inline_data`);
    if (typeof blob.mimeType !== "string" || blob.mimeType === "")
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.inline_data.mime_type: required field is not set.`,
      );
    if (typeof blob.data !== "string" || !BASE64.test(blob.data))
      throw new RequestProblem(
        `Invalid value at '${where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed.`,
      );
  }
  if (part.fileData !== undefined) {
    const file = fieldsOf(part.fileData, ["mimeType", "fileUri", "displayName"], `${where}.file_data`);
    if (typeof file.fileUri !== "string" || file.fileUri === "")
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.file_data.file_uri: required field is not set.`,
      );
  }
}

/** `tools`: function declarations checked one by one; returns the declared function names. */
export function checkTools(value: unknown, where: string): Set<string> {
  const names = new Set<string>();
  if (value === undefined) return names;
  if (!Array.isArray(value)) throw new RequestProblem(`Invalid value at '${where}.tools': expected a list.`);
  value.forEach((entry, index) => {
    const tool = fieldsOf(entry, TOOL_FIELDS, `${where}.tools[${index}]`);
    const declarations = tool.functionDeclarations;
    if (declarations === undefined) return;
    if (!Array.isArray(declarations))
      throw new RequestProblem(
        `Invalid value at '${where}.tools[${index}].function_declarations': expected a list.`,
      );
    declarations.forEach((declaration, at) => {
      const place = `${where}.tools[${index}].function_declarations[${at}]`;
      const fields = fieldsOf(declaration, FUNCTION_FIELDS, place);
      if (typeof fields.name !== "string" || !FUNCTION_NAME.test(fields.name)) {
        throw new RequestProblem(
          `* GenerateContentRequest.${place}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 128.`,
        );
      }
      if (names.has(fields.name))
        throw new RequestProblem(`* GenerateContentRequest.${place}.name: duplicate function name.`);
      names.add(fields.name);
      if (fields.parameters !== undefined && fields.parametersJsonSchema !== undefined) {
        throw new RequestProblem(
          `* GenerateContentRequest.${place}: parameters and parameters_json_schema are mutually exclusive.`,
        );
      }
      if (fields.parameters !== undefined) checkSchema(fields.parameters, `${place}.parameters`);
    });
  });
  return names;
}

/** The calling mode, with `allowedFunctionNames` only under ANY (or VALIDATED) and naming declared functions. */
export function checkToolConfig(
  value: unknown,
  where: string,
  functions: ReadonlySet<string>,
): Json | undefined {
  if (value === undefined) return undefined;
  const config = fieldsOf(value, TOOL_CONFIG_FIELDS, `${where}.tool_config`);
  if (config.functionCallingConfig === undefined) return undefined;
  const at = `${where}.tool_config.function_calling_config`;
  const calling = fieldsOf(config.functionCallingConfig, CALLING_FIELDS, at);
  if (calling.mode !== undefined && !MODES.has(String(calling.mode))) {
    throw new RequestProblem(
      `Invalid value at '${at}.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), ${JSON.stringify(calling.mode)}`,
    );
  }
  const allowed = calling.allowedFunctionNames;
  if (allowed !== undefined) {
    if (calling.mode !== "ANY" && calling.mode !== "VALIDATED") {
      throw new RequestProblem(
        `* GenerateContentRequest.${at}.allowed_function_names: only set when the Mode is ANY or VALIDATED.`,
      );
    }
    if (!Array.isArray(allowed))
      throw new RequestProblem(`Invalid value at '${at}.allowed_function_names': expected a list.`);
    const unknown = allowed.find((name) => !functions.has(String(name)));
    if (unknown !== undefined) {
      // UNVERIFIED wording.
      throw new RequestProblem(
        `* GenerateContentRequest.${at}.allowed_function_names: ${String(unknown)} is not a declared function.`,
      );
    }
  }
  if ((calling.mode === "ANY" || calling.mode === "VALIDATED") && functions.size === 0) {
    // UNVERIFIED wording.
    throw new RequestProblem(
      `* GenerateContentRequest.${at}.mode: ${String(calling.mode)} needs function declarations.`,
    );
  }
  return calling;
}

/** Structured output and thinking settings of a generation config (its other fields are checked by the caller). */
export function checkOutputSettings(
  config: Json,
  where: string,
  model: string,
  hasFunctions: boolean,
): { schema: Json | undefined; thinking: Json | undefined } {
  const mime = config.responseMimeType;
  if (mime !== undefined && !MIME_TYPES.has(String(mime))) {
    throw new RequestProblem(
      `* GenerateContentRequest.${where}.response_mime_type: allowed mimetypes are ${[...MIME_TYPES].join(", ")}.`,
    );
  }
  if (config.responseSchema !== undefined && config.responseJsonSchema !== undefined) {
    // UNVERIFIED wording.
    throw new RequestProblem(
      `* GenerateContentRequest.${where}: response_schema and response_json_schema cannot both be set.`,
    );
  }
  let schema: Json | undefined;
  if (config.responseSchema !== undefined) {
    if (mime !== "application/json" && mime !== "text/x.enum") {
      // UNVERIFIED wording.
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.response_schema: only supported with response_mime_type application/json or text/x.enum.`,
      );
    }
    schema = checkSchema(config.responseSchema, `${where}.response_schema`);
  }
  if (mime === "application/json" && hasFunctions && /^models\/gemini-(1|2)\./.test(model)) {
    throw new RequestProblem("Function calling with a response mime type: 'application/json' is unsupported");
  }
  let thinking: Json | undefined;
  if (config.thinkingConfig !== undefined) {
    thinking = fieldsOf(config.thinkingConfig, THINKING_FIELDS, `${where}.thinking_config`);
    if (thinking.thinkingLevel !== undefined && !LEVELS.has(String(thinking.thinkingLevel))) {
      throw new RequestProblem(
        `Invalid value at '${where}.thinking_config.thinking_level' (type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel), ${JSON.stringify(thinking.thinkingLevel)}`,
      );
    }
    if (thinking.thinkingLevel !== undefined && thinking.thinkingBudget !== undefined) {
      // UNVERIFIED wording.
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.thinking_config: thinking_budget and thinking_level cannot both be set.`,
      );
    }
    const budget = thinking.thinkingBudget;
    if (
      budget !== undefined &&
      (!Number.isInteger(budget) || (budget as number) < -1 || (budget as number) > 32_768)
    ) {
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.thinking_config.thinking_budget: must be -1 (dynamic) or from 0 to 32768.`,
      );
    }
  }
  if (config.seed !== undefined && !Number.isInteger(config.seed)) {
    throw new RequestProblem(`Invalid value at '${where}.seed' (TYPE_INT32), ${JSON.stringify(config.seed)}`);
  }
  return { schema, thinking };
}
