import type { OutputMarker } from "../structured.js";
import { toJsonSchema } from "./schema-check.js";

type Json = Record<string, unknown>;

/** What an image costs in Gemini's count (258 tokens for an image up to 384 px a side; larger ones are tiled). */
export const IMAGE_TOKENS = 258;

/** How the emulated model answers a request, from what the request asks (its markers and seed are added later). */
export interface AnswerShape {
  /** Text, JSON in the shape of `responseSchema`, or a function call. */
  kind: "text" | "json" | "call";
  /** The answer's schema as JSON Schema (kind "json"). */
  schema?: unknown;
  /** The function called and its parameters as JSON Schema (kind "call"). */
  call?: { name: string; schema: unknown };
  /** Tokens the model thinks for (0: none), and whether the thoughts are returned. */
  thinkingTokens: number;
  includeThoughts: boolean;
  stopSequences: string[];
  images: number;
  /** The system instruction's text (its tokens are part of the prompt, and may be cached). */
  systemText: string;
}

export interface AnswerPlan extends AnswerShape {
  markers: ReadonlySet<OutputMarker>;
  seed: string;
  /** Prompt tokens read from Gemini's implicit cache. */
  cachedTokens: number;
}

export interface Declared {
  name: string;
  parameters: unknown;
}

/** The declared functions of a request's tools, in order. */
export function declaredFunctions(tools: unknown): Declared[] {
  const declared: Declared[] = [];
  for (const tool of Array.isArray(tools) ? tools : []) {
    const list = (tool as Json)?.functionDeclarations ?? (tool as Json)?.function_declarations;
    for (const declaration of Array.isArray(list) ? list : []) {
      const entry = declaration as Json;
      declared.push({ name: String(entry.name), parameters: entry.parameters });
    }
  }
  return declared;
}

/** Thought tokens for a thinking config: the budget (capped, as thinking rarely fills it) or a level's share. */
function thinkingTokensOf(thinking: Json | undefined): number {
  if (!thinking) return 0;
  const budget = thinking.thinkingBudget;
  if (typeof budget === "number") return budget === 0 ? 0 : budget < 0 ? 48 : Math.min(budget, 48);
  const levels: Record<string, number> = { MINIMAL: 8, LOW: 24, MEDIUM: 48, HIGH: 96 };
  return levels[String(thinking.thinkingLevel)] ?? 0;
}

/**
 * The shape of the answer: a call of the function ANY mode allows (the first allowed, else the first declared), or
 * in AUTO mode of the first declared when the request carries `[emulator:tool]`; else JSON for a responseSchema;
 * else text.
 */
export function answerShape(options: {
  functions: readonly Declared[];
  calling: Json | undefined;
  schema: Json | undefined;
  thinking: Json | undefined;
  stopSequences: unknown;
  images: number;
  systemText: string;
  markers: ReadonlySet<OutputMarker>;
}): AnswerShape {
  const { functions, calling } = options;
  const mode = calling?.mode ?? "AUTO";
  const allowed = Array.isArray(calling?.allowedFunctionNames)
    ? calling.allowedFunctionNames.map(String)
    : [];
  let called: Declared | undefined;
  if (mode === "ANY" || mode === "VALIDATED")
    called = functions.find((fn) => allowed.length === 0 || allowed.includes(fn.name));
  else if (mode === "AUTO" && options.markers.has("tool")) called = functions[0];
  const shape: AnswerShape = {
    kind: called ? "call" : options.schema ? "json" : "text",
    thinkingTokens: thinkingTokensOf(options.thinking),
    includeThoughts: options.thinking?.includeThoughts === true,
    stopSequences: Array.isArray(options.stopSequences) ? options.stopSequences.map(String) : [],
    images: options.images,
    systemText: options.systemText,
  };
  if (called) shape.call = { name: called.name, schema: toJsonSchema(called.parameters) };
  else if (options.schema) shape.schema = toJsonSchema(options.schema);
  return shape;
}
