import type { ChatShapeRules } from "../openai-compatible/chat-shape.js";

/**
 * Together's ChatCompletionRequest (together-openapi.yaml): `response_format` as OpenAI's (`json_schema` required,
 * its `schema` not), tools whose `type` is a plain string, only user messages with parts (system and assistant
 * content are strings), `reasoning_effort` low to high.
 */
export const TOGETHER_CHAT_SHAPE: ChatShapeRules = {
  schemaRequired: false,
  strictSubset: false,
  toolChoiceModes: new Set(["none", "auto", "required"]),
  toolTypeOptional: true,
  parametersRequired: false,
  choiceNeedsTools: false,
  imageUrlString: false,
  reasoningEfforts: new Set(["low", "medium", "high"]),
  seedField: "seed",
  partRoles: new Set(["user"]),
};
