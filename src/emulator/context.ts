import type { IncomingMessage } from "node:http";
import type { EmulatorClock } from "./clock.js";
import type { BatchTiming } from "./engine.js";
import type { RequestFate } from "./fates.js";
import type { Router } from "./http.js";
import type { EmulatorStorage } from "./storage.js";

/** What every provider's emulation shares: the clock, batch timing and the fates tests ask for. */
export interface EmulatorContext {
  clock: EmulatorClock;
  timing: BatchTiming;
  /** The fate of a request: set by the test for its custom_id, else a marker in its body, else success. */
  fateOf(customId: string, bodyText: string): RequestFate;
  /** Where uploaded files are kept on disk, removed when the emulator closes; without it they stay in memory. */
  storage?: EmulatorStorage;
  /** Changes whenever fateOf may answer differently (a test set a fate): what was read with it is read again. */
  fatesVersion?: () => number;
}

/** One provider's API, mounted under `/<name>` of the emulator. */
export interface ProviderEmulation {
  readonly name: string;
  readonly router: Router;
  /**
   * Returns the error the provider sends when a request carries no credentials or a key that `acceptsKey` refuses
   * (in the provider's own status and shape), else null. Without configured keys, any key is accepted.
   */
  checkAuth(
    request: IncomingMessage,
    acceptsKey: (key: string) => boolean,
  ): { status: number; body: unknown } | null;
  /** The provider's error body for a status and message. */
  errorBody(status: number, code: string, message: string): unknown;
  /** How many batches this provider holds (tests count them to prove no duplicate was created). */
  batchCount(): number;
}
