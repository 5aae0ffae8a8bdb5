import { ValidationError } from "../errors.js";
import type { BatchRequest } from "../types.js";
import { imagesOf } from "./parts.js";

/** What a request may ask of a provider beyond text in, text out. Each provider's entry lists what it can do. */
export type RequestFeature =
  | "contentParts"
  | "images"
  | "imageUrls"
  | "structuredOutput"
  | "tools"
  | "temperature"
  | "topP"
  | "stopSequences"
  | "seed"
  | "reasoningEffort"
  | "cacheSystemPrompt"
  | "embeddings";

/** Every feature, in the order the README's table lists them. */
export const ALL_FEATURES: readonly RequestFeature[] = [
  "contentParts",
  "images",
  "imageUrls",
  "structuredOutput",
  "tools",
  "temperature",
  "topP",
  "stopSequences",
  "seed",
  "reasoningEffort",
  "cacheSystemPrompt",
  "embeddings",
];

/** Every feature but those a provider lacks: how an entry says what it takes. */
export function featuresExcept(...lacking: RequestFeature[]): readonly RequestFeature[] {
  return ALL_FEATURES.filter((feature) => !lacking.includes(feature));
}

/** The features a request uses. */
export function featuresOf(request: BatchRequest): Set<RequestFeature> {
  const used = new Set<RequestFeature>();
  for (const message of request.messages ?? []) {
    if (Array.isArray(message.content)) used.add("contentParts");
    for (const image of imagesOf(message.content)) {
      used.add("images");
      if ("url" in image && !image.url.startsWith("data:")) used.add("imageUrls");
    }
  }
  if (request.responseFormat !== undefined) used.add("structuredOutput");
  if (request.tools !== undefined || request.toolChoice !== undefined) used.add("tools");
  if (request.temperature !== undefined) used.add("temperature");
  if (request.topP !== undefined) used.add("topP");
  if (request.stopSequences !== undefined) used.add("stopSequences");
  if (request.seed !== undefined) used.add("seed");
  if (request.reasoningEffort !== undefined) used.add("reasoningEffort");
  if (request.cacheSystemPrompt) used.add("cacheSystemPrompt");
  return used;
}

const FIELD: Record<RequestFeature, string> = {
  contentParts: "message content given as parts (give it as a string)",
  images: "image parts",
  imageUrls: "images by URL (give them as data instead)",
  structuredOutput: "responseFormat",
  tools: "tools",
  temperature: "temperature",
  topP: "topP",
  stopSequences: "stopSequences",
  seed: "seed",
  reasoningEffort: "reasoningEffort",
  cacheSystemPrompt: "cacheSystemPrompt",
  embeddings: 'kind: "embeddings"',
};

/** Refuses, before anything is sent, a request that asks a provider for what it cannot do. */
export function assertSupported(
  used: Iterable<RequestFeature>,
  supported: ReadonlySet<RequestFeature>,
  provider: string,
  label: string,
): void {
  for (const feature of used) {
    if (!supported.has(feature)) {
      throw new ValidationError(
        `${label}: ${provider} batches in Relay do not take ${FIELD[feature]}. Leave it out, or use a provider ` +
          "that supports it (see the README's provider table).",
        "unsupported_feature",
      );
    }
  }
}
