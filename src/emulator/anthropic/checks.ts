import type { RequestRejection } from "../engine.js";

/**
 * The Messages API's checks of message content, tools, tool choice and structured output, as it applies them to a
 * batch request once the batch runs. Shapes follow MessageCreateParams of @anthropic-ai/sdk 1.12; messages whose
 * exact wording is not documented are marked UNVERIFIED.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export const refuse = (message: string, param: string): RequestRejection => ({
  message,
  code: "invalid_request_error",
  param,
});

/** Base64ImageSource.media_type. */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Tool names: ^[a-zA-Z0-9_-]{1,128}$ (UNVERIFIED upper bound; older docs say 64). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
/** Content block types a request may carry besides text and image, accepted without a closer look. */
const OTHER_BLOCKS = new Set([
  "tool_use",
  "tool_result",
  "document",
  "thinking",
  "redacted_thinking",
  "search_result",
  "server_tool_use",
  "web_search_tool_result",
  "container_upload",
]);
const CUSTOM_TOOL_FIELDS = new Set([
  "name",
  "description",
  "input_schema",
  "type",
  "allowed_callers",
  "cache_control",
  "defer_loading",
  "eager_input_streaming",
  "input_examples",
  "strict",
]);

function checkCacheControl(value: unknown, where: string): RequestRejection | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value) || value.type !== "ephemeral")
    return refuse(`${where}.type: Input should be 'ephemeral'`, where);
  if (value.ttl !== undefined && value.ttl !== "5m" && value.ttl !== "1h")
    return refuse(`${where}.ttl: Input should be '5m' or '1h'`, where);
  const extra = Object.keys(value).find((key) => key !== "type" && key !== "ttl");
  return extra ? refuse(`${where}.${extra}: Extra inputs are not permitted`, where) : null;
}

function checkText(block: Json, where: string): RequestRejection | null {
  if (typeof block.text !== "string") return refuse(`${where}.text: Field required`, where);
  if (block.text === "") return refuse(`${where}: text content blocks must be non-empty`, where);
  return checkCacheControl(block.cache_control, `${where}.cache_control`);
}

function checkImage(block: Json, where: string): RequestRejection | null {
  const source = block.source;
  if (!isObject(source)) return refuse(`${where}.source: Field required`, where);
  if (source.type === "base64") {
    if (!IMAGE_TYPES.has(String(source.media_type))) {
      return refuse(
        `${where}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
        where,
      );
    }
    if (typeof source.data !== "string" || source.data === "" || !BASE64.test(source.data))
      return refuse(`${where}.source.data: The image data is not valid base64`, where);
  } else if (source.type === "url") {
    if (typeof source.url !== "string" || !/^https?:\/\//.test(source.url))
      return refuse(`${where}.source.url: Input should be a valid URL`, where);
  } else if (source.type === "file") {
    if (typeof source.file_id !== "string") return refuse(`${where}.source.file_id: Field required`, where);
  } else {
    return refuse(
      `${where}.source: Input tag '${String(source.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`,
      where,
    );
  }
  return checkCacheControl(block.cache_control, `${where}.cache_control`);
}

/** A list of content blocks (a message's content, or the system prompt with `textOnly`). */
function checkBlocks(blocks: unknown[], where: string, textOnly: boolean): RequestRejection | null {
  for (const [index, block] of blocks.entries()) {
    const at = `${where}.${index}`;
    if (!isObject(block)) return refuse(`${at}: Input should be an object`, at);
    const problem =
      block.type === "text"
        ? checkText(block, at)
        : block.type === "image" && !textOnly
          ? checkImage(block, at)
          : !textOnly && OTHER_BLOCKS.has(String(block.type))
            ? null
            : refuse(
                `${at}: Input tag '${String(block.type)}' found using 'type' does not match any of the expected tags`,
                at,
              );
    if (problem) return problem;
  }
  return null;
}

export function checkSystem(system: unknown): RequestRejection | null {
  if (system === undefined || typeof system === "string") return null;
  if (!Array.isArray(system)) return refuse("system: Input should be a valid string or list", "system");
  return checkBlocks(system, "system", true);
}

export function checkMessages(messages: Json[]): RequestRejection | null {
  for (const [index, message] of messages.entries()) {
    const content = message.content;
    const where = `messages.${index}.content`;
    if (typeof content === "string") continue;
    if (!Array.isArray(content)) return refuse(`${where}: Input should be a valid string or list`, where);
    const problem = checkBlocks(content, where, false);
    if (problem) return problem;
  }
  return null;
}

/** `tools`: custom tools strictly, server tools (a typed `type` other than "custom") by their name only. */
export function checkTools(tools: unknown): { problem: RequestRejection | null; names: Set<string> } {
  const names = new Set<string>();
  if (tools === undefined) return { problem: null, names };
  if (!Array.isArray(tools))
    return { problem: refuse("tools: Input should be a valid list", "tools"), names };
  for (const [index, tool] of tools.entries()) {
    const at = `tools.${index}`;
    const fail = (message: string) => ({ problem: refuse(message, "tools"), names });
    if (!isObject(tool)) return fail(`${at}: Input should be an object`);
    if (typeof tool.name !== "string" || !TOOL_NAME.test(tool.name))
      return fail(`${at}.name: String should match pattern '${TOOL_NAME.source}'`);
    if (names.has(tool.name)) return fail("tools: Tool names must be unique.");
    names.add(tool.name);
    if (tool.type !== undefined && tool.type !== null && tool.type !== "custom") continue;
    const extra = Object.keys(tool).find((key) => !CUSTOM_TOOL_FIELDS.has(key));
    if (extra) return fail(`${at}.custom.${extra}: Extra inputs are not permitted`);
    if (tool.description !== undefined && typeof tool.description !== "string")
      return fail(`${at}.custom.description: Input should be a valid string`);
    const schema = tool.input_schema;
    if (!isObject(schema)) return fail(`${at}.custom.input_schema: Field required`);
    if (schema.type !== "object") return fail(`${at}.custom.input_schema.type: Input should be 'object'`);
  }
  return { problem: null, names };
}

export function checkToolChoice(choice: unknown, toolNames: ReadonlySet<string>): RequestRejection | null {
  if (choice === undefined) return null;
  const fail = (message: string) => refuse(message, "tool_choice");
  if (!isObject(choice)) return fail("tool_choice: Input should be an object");
  const type = choice.type;
  if (type !== "auto" && type !== "any" && type !== "none" && type !== "tool") {
    return fail(
      `tool_choice: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`,
    );
  }
  const allowed = new Set(["type", ...(type === "none" ? [] : ["disable_parallel_tool_use"])]);
  if (type === "tool") allowed.add("name");
  const extra = Object.keys(choice).find((key) => !allowed.has(key));
  if (extra) return fail(`tool_choice.${type}.${extra}: Extra inputs are not permitted`);
  if ((type === "any" || type === "tool") && toolNames.size === 0) {
    // UNVERIFIED wording.
    return fail("tool_choice: a tool choice that forces tool use needs tools");
  }
  if (type === "tool") {
    if (typeof choice.name !== "string") return fail("tool_choice.tool.name: Field required");
    // UNVERIFIED wording.
    if (!toolNames.has(choice.name)) return fail(`tool_choice: Tool '${choice.name}' not found in tools`);
  }
  return null;
}

/** Keywords structured outputs do not take (the SDK's helper moves them into descriptions). UNVERIFIED list. */
const UNSUPPORTED_KEYWORDS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "patternProperties",
  "not",
];

function checkOutputSchema(schema: unknown, where: string): string | null {
  if (!isObject(schema)) return null;
  const isObjectType =
    schema.type === "object" || (Array.isArray(schema.type) && schema.type.includes("object"));
  if ((isObjectType || isObject(schema.properties)) && schema.additionalProperties !== false) {
    return `${where}: For 'object' type, 'additionalProperties' must be explicitly set to false`;
  }
  const keyword = UNSUPPORTED_KEYWORDS.find((name) => name in schema);
  if (keyword) return `${where}: the '${keyword}' keyword is not supported in structured outputs`;
  if (typeof schema.minItems === "number" && schema.minItems > 1)
    return `${where}: minItems values other than 0 or 1 are not supported`;
  const children: [string, unknown][] = [];
  for (const key of ["properties", "$defs", "definitions"]) {
    if (isObject(schema[key])) {
      for (const [name, inner] of Object.entries(schema[key] as Json))
        children.push([`${key}.${name}`, inner]);
    }
  }
  if (schema.items !== undefined) children.push(["items", schema.items]);
  for (const key of ["anyOf", "allOf"]) {
    if (Array.isArray(schema[key]))
      for (const [index, inner] of (schema[key] as unknown[]).entries())
        children.push([`${key}.${index}`, inner]);
  }
  for (const [path, inner] of children) {
    const problem = checkOutputSchema(inner, `${where}.${path}`);
    if (problem) return problem;
  }
  return null;
}

/** `output_config`: `{effort?, format?: {type: "json_schema", schema}}`. */
export function checkOutputConfig(config: unknown): RequestRejection | null {
  if (config === undefined) return null;
  const fail = (message: string) => refuse(message, "output_config");
  if (!isObject(config)) return fail("output_config: Input should be an object");
  const extra = Object.keys(config).find((key) => key !== "effort" && key !== "format");
  if (extra) return fail(`output_config.${extra}: Extra inputs are not permitted`);
  const effort = config.effort;
  if (
    effort !== undefined &&
    effort !== null &&
    !["low", "medium", "high", "xhigh", "max"].includes(String(effort))
  )
    return fail("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'");
  const format = config.format;
  if (format === undefined || format === null) return null;
  if (!isObject(format) || format.type !== "json_schema")
    return fail("output_config.format.type: Input should be 'json_schema'");
  const formatExtra = Object.keys(format).find((key) => key !== "type" && key !== "schema");
  if (formatExtra) return fail(`output_config.format.${formatExtra}: Extra inputs are not permitted`);
  if (!isObject(format.schema)) return fail("output_config.format.schema: Field required");
  const problem = checkOutputSchema(format.schema, "output_config.format.schema");
  return problem ? fail(problem) : null;
}
