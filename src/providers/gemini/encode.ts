import { textOf } from "../../requests/parts.js";
import type { BatchRequest } from "../../types.js";
import { asObject } from "../shared/json.js";
import { chatMessages } from "../shared/messages.js";

/** The resource name of a model as the API takes it ("gemini-2.5-flash" → "models/gemini-2.5-flash"). */
export function modelResource(model: string): string {
  return model.startsWith("models/") || model.startsWith("tunedModels/") ? model : `models/${model}`;
}

type Content = { role: "user" | "model"; parts: { text: string }[] };

/**
 * Relay's conversation as Gemini contents: the system prompt and any system turns become `systemInstruction`
 * (Gemini has no system role), user turns stay `user`, assistant turns become `model`.
 */
function conversationOf(request: BatchRequest): { system: string | undefined; contents: Content[] } {
  const systemParts = request.systemPrompt ? [request.systemPrompt] : [];
  const contents: Content[] = [];
  for (const message of chatMessages(request, { includeSystem: false })) {
    // Content given as parts is refused before this (the entry does not list "contentParts" yet).
    if (message.role === "system") systemParts.push(textOf(message.content));
    else
      contents.push({
        role: message.role === "assistant" ? "model" : "user",
        parts: [{ text: textOf(message.content) }],
      });
  }
  return { system: systemParts.length > 0 ? systemParts.join("\n\n") : undefined, contents };
}

/**
 * The GenerateContentRequest of one request: the fields Relay sets, then `providerArgs` over them under the
 * API's own names. The API reads both camelCase and snake_case names, so a field the caller gives in either
 * spelling replaces Relay's; `generationConfig` is merged instead, so that `maxTokens` and the caller's
 * generation settings both apply.
 */
export function geminiRequestBody(request: BatchRequest): Record<string, unknown> {
  const args = { ...request.providerArgs };
  const { system, contents } = conversationOf(request);
  const body: Record<string, unknown> = { model: modelResource(request.model), contents };
  if (system !== undefined) body.systemInstruction = { parts: [{ text: system }] };

  const configKey = "generation_config" in args ? "generation_config" : "generationConfig";
  const callerConfig = asObject(args[configKey]) ?? {};
  const setsMax = "maxOutputTokens" in callerConfig || "max_output_tokens" in callerConfig;
  const config = {
    ...(request.maxTokens === undefined || setsMax ? {} : { maxOutputTokens: request.maxTokens }),
    ...callerConfig,
  };
  delete args[configKey];
  if (Object.keys(config).length > 0) body[configKey] = config;

  for (const [camel, snake] of [["systemInstruction", "system_instruction"]] as const) {
    if (snake in args) delete body[camel];
  }
  return { ...body, ...args };
}

/** One line of a shard, in the batch input file format: `{"key", "request"}`. */
export function encodeGeminiLine(request: BatchRequest): string {
  return JSON.stringify({ key: request.id, request: geminiRequestBody(request) });
}
