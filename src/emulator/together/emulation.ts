import type { IncomingMessage } from "node:http";
import type { EmulatorContext, ProviderEmulation } from "../context.js";
import { Router } from "../http.js";

/** Placeholder until the Together emulation lands: every route answers 404. */
export class TogetherEmulation implements ProviderEmulation {
  readonly name = "together";
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
