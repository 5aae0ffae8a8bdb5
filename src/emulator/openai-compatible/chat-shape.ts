import type { ReplyPlan } from "../reply.js";
import { isObject, type Json, Problems, type ShapeProblem } from "./problems.js";
import { strictSchemaProblems } from "./strict.js";

/** How one provider's chat-completions API checks the request kinds of a body (from its spec or SDK types). */
export interface ChatShapeRules {
  /** Whether `json_schema.schema` is required (Mistral's JsonSchema requires it; OpenAI's does not). */
  schemaRequired: boolean;
  /** Whether `strict: true` schemas must keep to the strict subset (OpenAI, Azure, Groq). */
  strictSubset: boolean;
  /** The models that take `strict: true`, where only some do (Groq). */
  strictModels?: ReadonlySet<string>;
  /** Tool choice modes besides a named function. */
  toolChoiceModes: ReadonlySet<string>;
  /** Whether a tool's `type` may be left out (Mistral's defaults to "function"). */
  toolTypeOptional: boolean;
  /** Whether a function's `parameters` is required (Mistral, xAI). */
  parametersRequired: boolean;
  /** Whether a tool choice without tools is refused (OpenAI: "only allowed when 'tools' are specified"). */
  choiceNeedsTools: boolean;
  maxTools?: number;
  /** Whether an `image_url` part may hold the URL as a bare string (Mistral). */
  imageUrlString: boolean;
  maxStop?: number;
  /** The `reasoning_effort` values taken, where the spec lists them. */
  reasoningEfforts?: ReadonlySet<string>;
  /** The models that take images, where only some do (Groq). */
  visionModels?: ReadonlySet<string>;
  /** The field of the seed. */
  seedField: string;
  /** The smallest seed taken, where the spec bounds it (Mistral: 0). */
  minSeed?: number;
  /** The roles whose content may be a list of parts, where not all (Together: user only). */
  partRoles?: ReadonlySet<string>;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const IMAGE_URL = /^(https?:\/\/\S+|data:image\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/]+=*)$/;
const FORMAT_KEYS = ["name", "description", "schema", "strict"];
const FUNCTION_KEYS = ["name", "description", "parameters", "strict"];

/** What a chat body's kinds add to its answer, before the markers and seed are known. */
export type PlanParts = Omit<ReplyPlan, "markers" | "seed">;

function checkResponseFormat(body: Json, rules: ChatShapeRules, problems: Problems, plan: PlanParts): void {
  const format = body.response_format;
  if (format === undefined || format === null) return;
  const at = ["response_format"];
  if (!problems.object(format, at)) return;
  if (format.type !== "text" && format.type !== "json_object" && format.type !== "json_schema") {
    problems.add(
      [...at, "type"],
      "invalid_value",
      `Invalid value: '${String(format.type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.`,
    );
    return;
  }
  if (format.type !== "json_schema") return;
  const spec = format.json_schema;
  if (!problems.object(spec, [...at, "json_schema"])) return;
  problems.keys(spec, FORMAT_KEYS, [...at, "json_schema"]);
  if (problems.string(spec.name, [...at, "json_schema", "name"]) && !NAME.test(spec.name)) {
    problems.add(
      [...at, "json_schema", "name"],
      "invalid_value",
      `Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
    );
  }
  if (spec.strict !== undefined && spec.strict !== null && typeof spec.strict !== "boolean") {
    problems.add(
      [...at, "json_schema", "strict"],
      "invalid_type",
      "Invalid type for 'response_format.json_schema.strict': expected a boolean.",
    );
  }
  if (!problems.object(spec.schema, [...at, "json_schema", "schema"], rules.schemaRequired)) return;
  if (spec.strict === true) {
    const model = String(body.model ?? "");
    if (rules.strictModels && !rules.strictModels.has(model)) {
      problems.add(
        [...at, "json_schema", "strict"],
        "invalid_value",
        `The model '${model}' does not support strict structured outputs.`,
      );
      return;
    }
    if (rules.strictSubset) {
      for (const message of strictSchemaProblems(spec.schema, String(spec.name))) {
        problems.add([...at], "invalid_value", message);
      }
    }
  }
  plan.schema = spec.schema;
}

function checkTools(body: Json, rules: ChatShapeRules, problems: Problems, plan: PlanParts): void {
  const tools = body.tools;
  const hasTools = Array.isArray(tools) && tools.length > 0;
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) {
      problems.add(["tools"], "invalid_type", "Invalid type for 'tools': expected an array.");
      return;
    }
    if (rules.maxTools !== undefined && tools.length > rules.maxTools) {
      problems.add(
        ["tools"],
        "invalid_value",
        `Invalid 'tools': array too long. Expected an array with maximum length ${rules.maxTools}, but got an array with length ${tools.length} instead.`,
      );
    }
    const list: { name: string; parameters: unknown }[] = [];
    tools.forEach((tool, index) => {
      const at = ["tools", index];
      if (!problems.object(tool, at)) return;
      if (!(tool.type === "function" || (tool.type === undefined && rules.toolTypeOptional))) {
        problems.add(
          [...at, "type"],
          "invalid_value",
          `Invalid value: '${String(tool.type)}'. Supported values are: 'function'.`,
        );
      }
      const fn = tool.function;
      if (!problems.object(fn, [...at, "function"])) return;
      problems.keys(fn, FUNCTION_KEYS, [...at, "function"]);
      if (problems.string(fn.name, [...at, "function", "name"]) && !NAME.test(fn.name)) {
        problems.add(
          [...at, "function", "name"],
          "invalid_value",
          `Invalid 'tools[${index}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        );
      }
      if (fn.description !== undefined) problems.string(fn.description, [...at, "function", "description"]);
      problems.object(fn.parameters, [...at, "function", "parameters"], rules.parametersRequired);
      if (typeof fn.name === "string")
        list.push({ name: fn.name, parameters: fn.parameters ?? { type: "object", properties: {} } });
    });
    plan.tools = list;
  }
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) {
    if (hasTools) plan.forcedTool = null;
    return;
  }
  if (!hasTools && rules.choiceNeedsTools) {
    problems.add(
      ["tool_choice"],
      "invalid_value",
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    );
    return;
  }
  if (typeof choice === "string") {
    if (!rules.toolChoiceModes.has(choice)) {
      problems.add(
        ["tool_choice"],
        "invalid_value",
        `Invalid value: '${choice}'. Supported values are: ${[...rules.toolChoiceModes].map((mode) => `'${mode}'`).join(", ")}.`,
      );
    } else if (choice === "none") delete plan.tools;
    else plan.forcedTool = choice === "auto" ? null : "any";
    return;
  }
  if (!problems.object(choice, ["tool_choice"])) return;
  if (choice.type !== "function" && !(choice.type === undefined && rules.toolTypeOptional)) {
    problems.add(
      ["tool_choice", "type"],
      "invalid_value",
      `Invalid value: '${String(choice.type)}'. Supported values are: 'function'.`,
    );
  }
  const fn = choice.function;
  if (
    !problems.object(fn, ["tool_choice", "function"]) ||
    !problems.string(fn.name, ["tool_choice", "function", "name"])
  )
    return;
  if (!plan.tools?.some((tool) => tool.name === fn.name)) {
    problems.add(
      ["tool_choice", "function", "name"],
      "invalid_value",
      `Invalid value for 'tool_choice': no function named '${fn.name}' was specified in the 'tools' parameter.`,
    );
    return;
  }
  plan.forcedTool = fn.name;
}

function checkParts(body: Json, rules: ChatShapeRules, problems: Problems, plan: PlanParts): void {
  if (!Array.isArray(body.messages)) return;
  body.messages.forEach((message, index) => {
    if (!isObject(message) || !Array.isArray(message.content)) return;
    if (rules.partRoles && !rules.partRoles.has(String(message.role))) {
      problems.add(
        ["messages", index, "content"],
        "invalid_type",
        `Invalid type for 'messages[${index}].content': a ${String(message.role)} message takes a string.`,
      );
      return;
    }
    message.content.forEach((part, at) => {
      const where = ["messages", index, "content", at];
      if (!problems.object(part, where)) return;
      if (part.type === "text") {
        problems.string(part.text, [...where, "text"]);
        return;
      }
      if (part.type !== "image_url") return;
      if (message.role !== "user") {
        problems.add(
          [...where, "type"],
          "invalid_value",
          `Invalid value: 'image_url'. Supported values are: 'text'${message.role === "assistant" ? " and 'refusal'" : ""}.`,
        );
        return;
      }
      const image = part.image_url;
      const url =
        typeof image === "string" && rules.imageUrlString ? image : isObject(image) ? image.url : undefined;
      if (url === undefined && !isObject(image)) {
        problems.object(image, [...where, "image_url"]);
        return;
      }
      if (!problems.string(url, [...where, "image_url", "url"])) return;
      if (!IMAGE_URL.test(url)) {
        problems.add(
          [...where, "image_url", "url"],
          "invalid_value",
          "Invalid image URL: expected an http(s) URL or a base64-encoded data URL (data:image/<type>;base64,<data>).",
        );
        return;
      }
      if (
        isObject(image) &&
        image.detail !== undefined &&
        !["auto", "low", "high"].includes(String(image.detail))
      ) {
        problems.add(
          [...where, "image_url", "detail"],
          "invalid_value",
          `Invalid value: '${String(image.detail)}'. Supported values are: 'auto', 'low' and 'high'.`,
        );
      }
      plan.images += 1;
    });
  });
  if (plan.images > 0 && rules.visionModels && !rules.visionModels.has(String(body.model))) {
    problems.add(
      ["messages"],
      "invalid_value",
      `The model '${String(body.model)}' does not support image inputs.`,
    );
  }
}

function checkOptions(body: Json, rules: ChatShapeRules, problems: Problems, plan: PlanParts): void {
  const stop = body.stop;
  if (Array.isArray(stop)) {
    if (!stop.every((item) => typeof item === "string"))
      problems.add(["stop"], "invalid_type", "Invalid type for 'stop': expected an array of strings.");
    if (rules.maxStop !== undefined && stop.length > rules.maxStop) {
      problems.add(
        ["stop"],
        "invalid_value",
        `Invalid 'stop': array too long. Expected an array with maximum length ${rules.maxStop}, but got an array with length ${stop.length} instead.`,
      );
    }
  } else if (stop !== undefined && stop !== null && typeof stop !== "string") {
    problems.add(
      ["stop"],
      "invalid_type",
      "Invalid type for 'stop': expected a string or an array of strings.",
    );
  }
  const seed = body[rules.seedField];
  if (seed !== undefined && seed !== null && !Number.isInteger(seed)) {
    problems.add(
      [rules.seedField],
      "invalid_type",
      `Invalid type for '${rules.seedField}': expected an integer.`,
    );
  }
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null) {
    if (typeof effort !== "string" || (rules.reasoningEfforts && !rules.reasoningEfforts.has(effort))) {
      const allowed = rules.reasoningEfforts
        ? ` Supported values are: ${[...rules.reasoningEfforts].map((value) => `'${value}'`).join(", ")}.`
        : "";
      problems.add(["reasoning_effort"], "invalid_value", `Invalid value: '${String(effort)}'.${allowed}`);
    } else plan.reasoningEffort = effort;
  }
  if (typeof body.prompt_cache_key === "string") plan.cacheKey = true;
}

/**
 * Checks what a chat-completions body asks beyond text (response_format, tools, tool_choice, image parts, stop,
 * seed, reasoning effort) as the provider's API does, and reads what the answer must be made of.
 */
export function checkChatBody(
  body: Json,
  rules: ChatShapeRules,
): { problems: ShapeProblem[]; plan: PlanParts } {
  const problems = new Problems();
  const plan: PlanParts = { images: 0 };
  checkResponseFormat(body, rules, problems, plan);
  checkTools(body, rules, problems, plan);
  checkParts(body, rules, problems, plan);
  checkOptions(body, rules, problems, plan);
  return { problems: problems.list, plan };
}

/** OpenAI's chat completions (CreateChatCompletionRequest); Azure and Groq take the same. */
export const OPENAI_CHAT_SHAPE: ChatShapeRules = {
  schemaRequired: false,
  strictSubset: true,
  toolChoiceModes: new Set(["none", "auto", "required"]),
  toolTypeOptional: false,
  parametersRequired: false,
  choiceNeedsTools: true,
  maxTools: 128,
  imageUrlString: false,
  maxStop: 4,
  reasoningEfforts: new Set(["none", "minimal", "low", "medium", "high", "xhigh", "max"]),
  seedField: "seed",
};
