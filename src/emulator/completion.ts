import { fnv1a } from "../util/fnv1a.js";

/** Deterministic fake model output: the same prompt always gets the same reply and token counts. */
export interface FakeCompletion {
  text: string;
  inputTokens: number;
  outputTokens: number;
  /** True when maxTokens cut the reply short. */
  truncated: boolean;
}

export const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export function fakeCompletion(model: string, promptText: string, maxTokens?: number): FakeCompletion {
  const snippet = promptText.length > 120 ? `${promptText.slice(0, 117)}...` : promptText;
  let text = `[${model} emulated #${fnv1a(`${model}\n${promptText}`).toString(16)}] You said: ${snippet}`;
  let outputTokens = estimateTokens(text);
  const truncated = maxTokens !== undefined && outputTokens > maxTokens;
  if (truncated) {
    text = text.slice(0, maxTokens * 4);
    outputTokens = maxTokens;
  }
  return { text, inputTokens: estimateTokens(promptText), outputTokens, truncated };
}

/** The text of the last user turn of a chat `messages` array: what the fake completion answers. */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as Record<string, unknown> | undefined;
    if (message?.role !== "user") continue;
    if (typeof message.content === "string") return message.content;
    if (Array.isArray(message.content)) {
      return message.content.map((part) => String((part as Record<string, unknown>)?.text ?? "")).join("");
    }
  }
  return "";
}
