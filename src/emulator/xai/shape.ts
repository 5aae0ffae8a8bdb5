import { type ChatShapeRules, OPENAI_CHAT_SHAPE } from "../openai-compatible/chat-shape.js";
import type { ResponsesShapeRules } from "../openai-compatible/responses-shape.js";

/**
 * xAI's ChatRequest (xai-sdk-ts spec/openapi.json): `response_format.json_schema` "includes the schema as a
 * `schema` field", functions need `parameters`, up to 350 tools, up to 4 stop sequences; `strict` is "only
 * included for compatibility" (not enforced), and `reasoning_effort` values "depend on the model".
 */
export const XAI_CHAT_SHAPE: ChatShapeRules = {
  ...OPENAI_CHAT_SHAPE,
  schemaRequired: true,
  strictSubset: false,
  parametersRequired: true,
  maxTools: 350,
  reasoningEfforts: undefined,
};

/** xAI's ModelRequest: `input_image` has no `detail`, functions need `parameters` but not `strict`. */
export const XAI_RESPONSES_SHAPE: ResponsesShapeRules = {
  imageDetailRequired: false,
  toolStrictRequired: false,
  toolParametersRequired: true,
  strictSubset: false,
};
