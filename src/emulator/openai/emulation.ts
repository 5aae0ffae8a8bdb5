import type { IncomingMessage } from "node:http";
import { OpenAICompatibleEmulation, type ProtocolRules } from "../openai-compatible/emulation.js";
import { bearerKey, openAIErrorBody, redactKey } from "../openai-compatible/errors.js";

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
    filePurposes: new Set(["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]),
    maxRequests: 50_000,
    maxFileBytes: 200 * 1024 * 1024,
    createFields: new Set([
      "input_file_id",
      "endpoint",
      "completion_window",
      "metadata",
      "output_expires_after",
    ]),
    fileExpiry: { min: 3600, max: 2_592_000 },
  };

  constructor(...args: ConstructorParameters<typeof OpenAICompatibleEmulation>) {
    super(...args);
    this.mount("/v1");
  }

  checkAuth(request: IncomingMessage, acceptsKey: (key: string) => boolean) {
    const key = bearerKey(request.headers.authorization);
    if (key !== undefined && acceptsKey(key)) return null;
    const message =
      key === undefined
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth."
        : `Incorrect API key provided: ${redactKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    return { status: 401, body: this.errorBody(401, "invalid_api_key", message) };
  }

  errorBody(status: number, code: string, message: string) {
    return openAIErrorBody(status, code, message);
  }
}
