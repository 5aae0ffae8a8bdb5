import { type ChatShapeRules, OPENAI_CHAT_SHAPE } from "../openai-compatible/chat-shape.js";

/**
 * Groq's chat completions (groq-sdk's CompletionCreateParams and the structured-outputs and vision guides): OpenAI's
 * shape, `strict: true` only on the GPT-OSS models, images only on the vision models, and Groq's own
 * `reasoning_effort` values.
 */
export const GROQ_CHAT_SHAPE: ChatShapeRules = {
  ...OPENAI_CHAT_SHAPE,
  strictModels: new Set(["openai/gpt-oss-20b", "openai/gpt-oss-120b"]),
  visionModels: new Set([
    "meta-llama/llama-4-scout-17b-16e-instruct",
    "meta-llama/llama-4-maverick-17b-128e-instruct",
    "qwen/qwen3.6-27b",
    "qwen/qwen3.8-27b",
  ]),
  reasoningEfforts: new Set(["none", "default", "low", "medium", "high"]),
};
