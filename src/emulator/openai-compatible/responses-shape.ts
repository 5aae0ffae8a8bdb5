import type { PlanParts } from "./chat-shape.js";
import { dotted, isObject, type Json, Problems, type ShapeProblem } from "./problems.js";
import { strictSchemaProblems } from "./strict.js";

/** How one provider's Responses API checks the request kinds of a body. */
export interface ResponsesShapeRules {
  /** Whether `input_image` needs `detail` (OpenAI's InputImageContent requires it). */
  imageDetailRequired: boolean;
  /** Whether a function tool needs `strict` (OpenAI's FunctionTool requires it). */
  toolStrictRequired: boolean;
  /** Whether a function tool needs `parameters` (OpenAI's FunctionTool and xAI's FunctionDefinition require it). */
  toolParametersRequired: boolean;
  strictSubset: boolean;
  reasoningEfforts?: ReadonlySet<string>;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const IMAGE_URL = /^(https?:\/\/\S+|data:image\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/]+=*)$/;
/** Built-in tool types, which take no function definition. */
const HOSTED_TOOLS = new Set([
  "web_search",
  "web_search_preview",
  "file_search",
  "code_interpreter",
  "image_generation",
  "mcp",
  "computer_use_preview",
  "x_search",
]);

function checkFormat(body: Json, rules: ResponsesShapeRules, problems: Problems, plan: PlanParts): void {
  const text = body.text;
  if (text === undefined || text === null || !problems.object(text, ["text"])) return;
  problems.keys(text, ["format", "verbosity"], ["text"]);
  const format = text.format;
  if (format === undefined || format === null || !problems.object(format, ["text", "format"])) return;
  const at = ["text", "format"];
  if (format.type !== "text" && format.type !== "json_object" && format.type !== "json_schema") {
    problems.add(
      [...at, "type"],
      "invalid_value",
      `Invalid value: '${String(format.type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.`,
    );
    return;
  }
  if (format.type !== "json_schema") return;
  problems.keys(format, ["type", "name", "description", "schema", "strict"], at);
  if (problems.string(format.name, [...at, "name"]) && !NAME.test(format.name)) {
    problems.add(
      [...at, "name"],
      "invalid_value",
      "Invalid 'text.format.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
    );
  }
  if (!problems.object(format.schema, [...at, "schema"])) return;
  if (format.strict === true && rules.strictSubset) {
    for (const message of strictSchemaProblems(format.schema, String(format.name)))
      problems.add(at, "invalid_value", message.replace("response_format", "text.format"));
  }
  plan.schema = format.schema;
}

function checkTools(body: Json, rules: ResponsesShapeRules, problems: Problems, plan: PlanParts): void {
  const tools = body.tools;
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) {
      problems.add(["tools"], "invalid_type", "Invalid type for 'tools': expected an array.");
      return;
    }
    const functions: { name: string; parameters: unknown }[] = [];
    tools.forEach((tool, index) => {
      const at = ["tools", index];
      if (!problems.object(tool, at)) return;
      if (typeof tool.type === "string" && HOSTED_TOOLS.has(tool.type)) return;
      if (tool.type !== "function") {
        problems.add(
          [...at, "type"],
          "invalid_value",
          `Invalid value: '${String(tool.type)}'. Supported values are: 'function', ${[...HOSTED_TOOLS].map((type) => `'${type}'`).join(", ")}.`,
        );
        return;
      }
      problems.keys(tool, ["type", "name", "description", "parameters", "strict"], at);
      if (problems.string(tool.name, [...at, "name"]) && !NAME.test(tool.name)) {
        problems.add(
          [...at, "name"],
          "invalid_value",
          `Invalid 'tools[${index}].name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        );
      }
      problems.object(tool.parameters, [...at, "parameters"], rules.toolParametersRequired);
      if (rules.toolStrictRequired && tool.strict === undefined) {
        problems.add([...at, "strict"], "missing", `Missing required parameter: 'tools[${index}].strict'.`);
      }
      if (typeof tool.name === "string")
        functions.push({ name: tool.name, parameters: tool.parameters ?? {} });
    });
    plan.tools = functions;
    plan.forcedTool = null;
  }
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return;
  if (typeof choice === "string") {
    if (!["none", "auto", "required"].includes(choice)) {
      problems.add(
        ["tool_choice"],
        "invalid_value",
        `Invalid value: '${choice}'. Supported values are: 'none', 'auto' and 'required'.`,
      );
    } else if (choice === "none") delete plan.tools;
    else plan.forcedTool = choice === "auto" ? null : "any";
    return;
  }
  if (!problems.object(choice, ["tool_choice"]) || choice.type !== "function") return;
  if (!problems.string(choice.name, ["tool_choice", "name"])) return;
  if (!plan.tools?.some((tool) => tool.name === choice.name)) {
    problems.add(
      ["tool_choice", "name"],
      "invalid_value",
      `Tool choice '${choice.name}' not found in 'tools' parameter.`,
    );
    return;
  }
  plan.forcedTool = choice.name;
}

function checkInput(body: Json, rules: ResponsesShapeRules, problems: Problems, plan: PlanParts): void {
  if (!Array.isArray(body.input)) return;
  body.input.forEach((item, index) => {
    if (!isObject(item) || !Array.isArray(item.content)) return;
    item.content.forEach((part, at) => {
      const where = ["input", index, "content", at];
      if (!problems.object(part, where)) return;
      const type = part.type;
      const allowed =
        item.role === "assistant" ? ["output_text", "refusal"] : ["input_text", "input_image", "input_file"];
      if (typeof type !== "string" || !allowed.includes(type)) {
        problems.add(
          [...where, "type"],
          "invalid_value",
          `Invalid value: '${String(type)}'. Supported values are: ${allowed.map((value) => `'${value}'`).join(", ")}.`,
        );
        return;
      }
      if (type === "input_text" || type === "output_text") {
        problems.string(part.text, [...where, "text"]);
        return;
      }
      if (type !== "input_image") return;
      if (rules.imageDetailRequired && part.detail === undefined) {
        problems.add(
          [...where, "detail"],
          "missing",
          `Missing required parameter: '${dotted([...where, "detail"])}'.`,
        );
      }
      if (part.image_url === undefined && part.file_id === undefined) {
        problems.add(
          [...where, "image_url"],
          "missing",
          "Missing required parameter: 'image_url' (or 'file_id').",
        );
        return;
      }
      if (
        part.image_url !== undefined &&
        (typeof part.image_url !== "string" || !IMAGE_URL.test(part.image_url))
      ) {
        problems.add(
          [...where, "image_url"],
          "invalid_value",
          "Invalid image URL: expected an http(s) URL or a base64-encoded data URL (data:image/<type>;base64,<data>).",
        );
        return;
      }
      plan.images += 1;
    });
  });
}

function checkOptions(body: Json, rules: ResponsesShapeRules, problems: Problems, plan: PlanParts): void {
  const reasoning = body.reasoning;
  if (reasoning !== undefined && reasoning !== null && problems.object(reasoning, ["reasoning"])) {
    const effort = reasoning.effort;
    if (effort !== undefined && effort !== null) {
      if (typeof effort !== "string" || (rules.reasoningEfforts && !rules.reasoningEfforts.has(effort))) {
        problems.add(["reasoning", "effort"], "invalid_value", `Invalid value: '${String(effort)}'.`);
      } else plan.reasoningEffort = effort;
    }
  }
  if (typeof body.prompt_cache_key === "string") plan.cacheKey = true;
}

/** Checks what a Responses-API body asks beyond text, as the provider's API does, and reads what the answer is made of. */
export function checkResponsesBody(
  body: Json,
  rules: ResponsesShapeRules,
): { problems: ShapeProblem[]; plan: PlanParts } {
  const problems = new Problems();
  const plan: PlanParts = { images: 0 };
  checkFormat(body, rules, problems, plan);
  checkTools(body, rules, problems, plan);
  checkInput(body, rules, problems, plan);
  checkOptions(body, rules, problems, plan);
  return { problems: problems.list, plan };
}

/** OpenAI's Responses API (CreateResponse); Azure takes the same. */
export const OPENAI_RESPONSES_SHAPE: ResponsesShapeRules = {
  imageDetailRequired: true,
  toolStrictRequired: true,
  toolParametersRequired: true,
  strictSubset: true,
  reasoningEfforts: new Set(["none", "minimal", "low", "medium", "high", "xhigh", "max"]),
};
