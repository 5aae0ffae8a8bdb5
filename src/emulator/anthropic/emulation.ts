import type { IncomingMessage } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { Router } from "../http.js";

/** Placeholder until the Anthropic emulation lands: every route answers 404. */
export class AnthropicEmulation implements ProviderEmulation {
  readonly name = "anthropic";
  readonly router = new Router();

  constructor(readonly context: EmulatorContext) {}

  checkAuth(_request: IncomingMessage) {
    return null;
  }

  errorBody(_status: number, code: string, message: string) {
    return { error: { type: code, message } };
  }

  batchCount(): number {
    return 0;
  }
}
