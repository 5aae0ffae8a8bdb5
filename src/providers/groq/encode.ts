import type { ResolvedFormat } from "../../requests/format.js";
import { imagesOf } from "../../requests/parts.js";
import type { BatchRequest, ReasoningEffort } from "../../types.js";
import { type ChatDialect, unsupported } from "../shared/openai-compatible/chat.js";
import type { LineDialects } from "../shared/openai-compatible/encode.js";
import { strictOrRefuse } from "../shared/openai-compatible/strict-schema.js";

/** Models that take `strict: true` structured output (Groq's structured-outputs guide: constrained decoding). */
const STRICT_MODELS = new Set(["openai/gpt-oss-20b", "openai/gpt-oss-120b"]);

/** Models that take images (Groq's vision guide). */
const VISION_MODELS = new Set([
  "meta-llama/llama-4-scout-17b-16e-instruct",
  "meta-llama/llama-4-maverick-17b-128e-instruct",
  "qwen/qwen3.6-27b",
  "qwen/qwen3.8-27b",
]);
/** "You can process a maximum of 5 images" per request (vision guide). */
const MAX_IMAGES = 5;
/** "Maximum allowed size for a request containing a base64 encoded image is 4MB" (vision guide). */
const MAX_BASE64_REQUEST_BYTES = 4_000_000;

/** `reasoning_effort` values per model (groq-sdk's CompletionCreateParams): none besides these take low..high. */
const EFFORT_MODELS = new Set(["openai/gpt-oss-20b", "openai/gpt-oss-120b", "qwen/qwen3.8-27b"]);
const EFFORTS: ReadonlySet<ReasoningEffort> = new Set(["low", "medium", "high"]);

function checkImages(request: BatchRequest): void {
  const images = (request.messages ?? []).flatMap((message) => imagesOf(message.content));
  if (images.length === 0) return;
  if (!VISION_MODELS.has(request.model)) {
    throw unsupported(
      request,
      `Groq's ${request.model} takes no images; its vision models are ${[...VISION_MODELS].join(", ")}.`,
    );
  }
  if (images.length > MAX_IMAGES) {
    throw unsupported(request, `Groq takes at most ${MAX_IMAGES} images per request, not ${images.length}.`);
  }
  const inline = images.reduce((sum, image) => sum + ("data" in image ? image.data.length : 0), 0);
  if (inline > MAX_BASE64_REQUEST_BYTES) {
    throw unsupported(
      request,
      `Groq takes requests with base64 images up to 4 MB; this one holds ${inline} bytes of them. Give large images by URL.`,
    );
  }
}

const strictWhereSupported = strictOrRefuse("Groq");

/**
 * Groq's chat completions: OpenAI's body, `strict` structured output only on the models that have it (others get
 * Groq's best-effort mode, and Relay checks every answer against the schema), images only on vision models,
 * reasoning effort only on the models that take one. Prompt caching is automatic (`cacheSystemPrompt` sends
 * nothing).
 */
const GROQ_CHAT: ChatDialect = {
  provider: "Groq",
  maxTokensField: "max_completion_tokens",
  maxStopSequences: 4,
  strictFor: (format: ResolvedFormat, request: BatchRequest) =>
    STRICT_MODELS.has(request.model) ? strictWhereSupported(format, request) : false,
  reasoningEffort(effort, request) {
    if (!EFFORT_MODELS.has(request.model)) {
      throw unsupported(
        request,
        `Groq's ${request.model} takes no reasoningEffort; ${[...EFFORT_MODELS].join(", ")} do.`,
      );
    }
    if (!EFFORTS.has(effort)) {
      throw unsupported(request, `Groq takes reasoningEffort "low", "medium" or "high", not "${effort}".`);
    }
    return { reasoning_effort: effort };
  },
  check: checkImages,
};

export const GROQ_LINES: LineDialects = { chat: GROQ_CHAT };
