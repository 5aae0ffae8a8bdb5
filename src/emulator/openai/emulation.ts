import type { IncomingMessage } from "node:http";
import { OPENAI_CHAT_SHAPE } from "../openai-compatible/chat-shape.js";
import { OPENAI_EMBEDDINGS_SHAPE } from "../openai-compatible/embeddings-shape.js";
import {
  EXPIRING_BATCH_FIELDS,
  OPENAI_FILE_PURPOSES,
  OpenAICompatibleEmulation,
  type ProtocolRules,
} from "../openai-compatible/emulation.js";
import { bearerRefusal, openAIErrorBody, redactKey } from "../openai-compatible/errors.js";
import { OPENAI_RESPONSES_SHAPE } from "../openai-compatible/responses-shape.js";

/** OpenAI's Files and Batches API, as far as batch work uses it. Mounted at /openai (base URL …/openai/v1). */
export class OpenAIEmulation extends OpenAICompatibleEmulation {
  readonly name = "openai";
  protected readonly rules: ProtocolRules = {
    endpoints: new Set([
      "/v1/responses",
      "/v1/chat/completions",
      "/v1/embeddings",
      "/v1/completions",
      "/v1/moderations",
    ]),
    filePurposes: new Set(OPENAI_FILE_PURPOSES),
    maxRequests: 50_000,
    maxFileBytes: 200 * 1024 * 1024,
    createFields: new Set(EXPIRING_BATCH_FIELDS),
    fileExpiry: { min: 3600, max: 2_592_000 },
    input: {
      shapes: {
        chat: OPENAI_CHAT_SHAPE,
        responses: OPENAI_RESPONSES_SHAPE,
        embeddings: OPENAI_EMBEDDINGS_SHAPE,
      },
    },
  };

  constructor(...args: ConstructorParameters<typeof OpenAICompatibleEmulation>) {
    super(...args);
    this.mount("/v1");
  }

  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    return bearerRefusal(request, acceptsKey, (key) =>
      this.errorBody(
        401,
        "invalid_api_key",
        key === undefined
          ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth."
          : `Incorrect API key provided: ${redactKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      ),
    );
  }

  errorBody(status: number, code: string, message: string) {
    return openAIErrorBody(status, code, message);
  }
}
