import { estimateTokens, type FakeCompletion } from "./completion.js";
import {
  defaultDimensions,
  fakeVector,
  hashText,
  type OutputMarker,
  outputMarkers,
  structuredAnswer,
  valueForSchema,
} from "./structured.js";

/**
 * What a request asks of the model beyond text, as an emulation read it from the provider's native body: the
 * answer is then made from it (schema-shaped JSON, tool calls, a vector) instead of the plain fake completion.
 */
export interface ReplyPlan {
  /** The JSON Schema of a structured answer. */
  schema?: unknown;
  /** The tools the model may call (none when the request's tool choice is "none"). */
  tools?: { name: string; parameters: unknown }[];
  /** Which tool the model must call: a name, "any" (one of them), or null (it may answer instead). */
  forcedTool?: string | null;
  /** Markers found in the request (or set as its fate) that change the answer. */
  markers: ReadonlySet<OutputMarker>;
  /** What the deterministic values are drawn from (the request's body). */
  seed: string;
  /** Image parts in the prompt; each counts as input tokens. */
  images: number;
  /** A reasoning effort the request asked for: the answer then spends reasoning tokens. */
  reasoningEffort?: string;
  /** Whether the request named a prompt-cache key: half its prompt is then read from the cache. */
  cacheKey?: boolean;
  /** For an embeddings request: the texts (one vector each) and the vectors' length. */
  embedding?: { inputs: string[]; dimensions: number };
}

/** The model's answer to a request with a plan. */
export interface Reply {
  /** The answer's text, or null when the model called a tool instead. */
  text: string | null;
  /** Tool calls, with their arguments as the JSON text providers send. */
  toolCalls: { id: string; name: string; arguments: string }[];
  /** An embeddings request's vectors, one per text. */
  vectors?: number[][];
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  imageTokens: number;
  truncated: boolean;
}

/** Input tokens an image costs in the emulator (OpenAI's figure for a low-detail image). */
export const IMAGE_TOKENS = 85;
const REASONING_TOKENS: Record<string, number> = { none: 0, minimal: 8, low: 32, medium: 128, high: 512 };

/** The vector length of an embeddings request: the one asked for, else the model's own. */
export function embeddingDimensions(model: string, asked: unknown): number {
  return typeof asked === "number" && Number.isInteger(asked) && asked > 0 ? asked : defaultDimensions(model);
}

function callId(seed: string, index: number): string {
  return `call_${hashText(`${seed}#${index}`).toString(36)}${index}`;
}

/**
 * The answer to a request with a plan: a tool call when the request forces one (or offers tools and carries
 * `[emulator:tool]`), else schema-shaped JSON when it has a schema, else the fake completion's text; for an
 * embeddings request, a deterministic vector. `[emulator:badjson]` breaks the JSON (or the call's arguments),
 * `[emulator:offschema]` leaves out a required field.
 */
export function replyTo(plan: ReplyPlan, completion: FakeCompletion, maxTokens?: number): Reply {
  const imageTokens = plan.images * IMAGE_TOKENS;
  const inputTokens = completion.inputTokens + imageTokens;
  const cachedTokens = plan.cacheKey ? Math.ceil(inputTokens / 2) : 0;
  const base = { inputTokens, imageTokens, cachedTokens, reasoningTokens: 0, truncated: false };
  if (plan.embedding) {
    const { inputs, dimensions } = plan.embedding;
    return {
      ...base,
      text: null,
      toolCalls: [],
      vectors: inputs.map((input) => fakeVector(input, dimensions)),
      inputTokens: inputs.reduce((sum, input) => sum + estimateTokens(input), 0),
      outputTokens: 0,
    };
  }
  // The output cap counts reasoning tokens too (OpenAI's max_output_tokens and max_completion_tokens).
  const effortTokens = plan.reasoningEffort ? (REASONING_TOKENS[plan.reasoningEffort] ?? 64) : 0;
  const reasoningFor = (visible: number) =>
    maxTokens === undefined ? effortTokens : Math.min(effortTokens, Math.max(0, maxTokens - visible));
  const tools = plan.tools ?? [];
  const called =
    plan.forcedTool === "any"
      ? tools[0]
      : typeof plan.forcedTool === "string"
        ? tools.find((tool) => tool.name === plan.forcedTool)
        : plan.markers.has("tool")
          ? tools[0]
          : undefined;
  if (called) {
    const args = plan.markers.has("badjson")
      ? '{"unfinished": '
      : JSON.stringify(valueForSchema(called.parameters, hashText(`${plan.seed}/${called.name}`)));
    const reasoningTokens = reasoningFor(estimateTokens(args));
    return {
      ...base,
      text: null,
      toolCalls: [{ id: callId(plan.seed, 0), name: called.name, arguments: args }],
      outputTokens: estimateTokens(args) + reasoningTokens,
      reasoningTokens,
    };
  }
  let text =
    plan.schema === undefined ? completion.text : structuredAnswer(plan.schema, plan.seed, plan.markers);
  let visible = plan.schema === undefined ? completion.outputTokens : estimateTokens(text);
  let truncated = plan.schema === undefined && completion.truncated;
  if (plan.schema !== undefined && maxTokens !== undefined && visible > maxTokens) {
    text = text.slice(0, maxTokens * 4);
    visible = maxTokens;
    truncated = true;
  }
  const reasoningTokens = reasoningFor(visible);
  return {
    ...base,
    text,
    toolCalls: [],
    outputTokens: visible + reasoningTokens,
    reasoningTokens,
    truncated,
  };
}

/** The markers of a request's body and its fate (a test may set "badjson" or "offschema" for one custom_id). */
export function markersOf(bodyText: string, fate: string): Set<OutputMarker> {
  const markers = outputMarkers(bodyText);
  if (fate === "badjson" || fate === "offschema") markers.add(fate);
  return markers;
}
