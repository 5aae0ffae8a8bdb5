import { estimateTokens } from "../completion.js";
import type { PromptCache } from "../prompt-cache.js";
import type { OutputMarker } from "../structured.js";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** What an image costs the emulated model: about what Anthropic charges for a 1.15-megapixel image. */
export const IMAGE_INPUT_TOKENS = 1_600;

/** How the emulated model answers one request, decided from its params when the batch is created. */
export interface AnswerPlan {
  /** Plain text, JSON for `output_config.format`, or a call of `tool`. */
  kind: "text" | "json" | "tool";
  /** The structured output's schema (kind "json"). */
  schema?: unknown;
  /** The tool called (kind "tool"). */
  tool?: { name: string; schema: unknown };
  markers: ReadonlySet<OutputMarker>;
  /** Seeds the schema-shaped values: the same request, the same answer. */
  seed: string;
  /** `thinking.budget_tokens`, or 0 without extended thinking. */
  thinkingBudget: number;
  stopSequences: string[];
  /** Uncached prompt tokens beyond the last user turn's: images and tool definitions. */
  extraInputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

function customTools(params: Json): { name: string; schema: unknown }[] {
  const tools = Array.isArray(params.tools) ? params.tools : [];
  return tools
    .filter((tool): tool is Json => isObject(tool) && (tool.type === undefined || tool.type === "custom"))
    .map((tool) => ({ name: String(tool.name), schema: tool.input_schema }));
}

function countImages(params: Json): number {
  let images = 0;
  for (const message of Array.isArray(params.messages) ? params.messages : []) {
    const content = isObject(message) ? message.content : undefined;
    if (Array.isArray(content))
      images += content.filter((block) => isObject(block) && block.type === "image").length;
  }
  return images;
}

/** The system prompt marked for the cache: its text, and the cache's lifetime. */
function cachedSystem(params: Json): { text: string; ttlMs: number } | null {
  if (!Array.isArray(params.system)) return null;
  const blocks = params.system.filter(isObject);
  const marked = blocks.findLastIndex((block) => isObject(block.cache_control));
  if (marked === -1) return null;
  const control = blocks[marked]?.cache_control as Json;
  const text = blocks
    .slice(0, marked + 1)
    .map((block) => String(block.text ?? ""))
    .join("");
  return { text, ttlMs: control.ttl === "1h" ? 60 * 60_000 : 5 * 60_000 };
}

/**
 * The answer to a request's params: a call of the tool that `tool_choice` forces (or of the first tool for `any`,
 * or, for `auto`, when the request carries `[emulator:tool]`), else JSON in the shape of `output_config.format`,
 * else text.
 */
export function planAnswer(
  params: Json,
  options: { seed: string; markers: ReadonlySet<OutputMarker>; cache: PromptCache; now: number },
): AnswerPlan {
  const tools = customTools(params);
  const choice = isObject(params.tool_choice) ? params.tool_choice : { type: "auto" };
  let tool: { name: string; schema: unknown } | undefined;
  if (choice.type === "tool") tool = tools.find((candidate) => candidate.name === choice.name);
  else if (choice.type === "any") tool = tools[0];
  else if (choice.type === "auto" && options.markers.has("tool")) tool = tools[0];
  const format = isObject(params.output_config) ? params.output_config.format : undefined;
  const thinking = isObject(params.thinking) ? params.thinking : undefined;
  const prefix = cachedSystem(params);
  const cache = prefix ? options.cache.use(String(params.model), prefix, options.now) : { read: 0, write: 0 };
  return {
    kind: tool ? "tool" : isObject(format) ? "json" : "text",
    ...(tool ? { tool } : isObject(format) ? { schema: format.schema } : {}),
    markers: options.markers,
    seed: options.seed,
    thinkingBudget: thinking?.type === "enabled" ? Number(thinking.budget_tokens) : 0,
    stopSequences: Array.isArray(params.stop_sequences) ? params.stop_sequences.map(String) : [],
    extraInputTokens:
      countImages(params) * IMAGE_INPUT_TOKENS +
      (tools.length > 0 ? estimateTokens(JSON.stringify(params.tools)) : 0),
    cacheReadTokens: cache.read,
    cacheWriteTokens: cache.write,
  };
}
