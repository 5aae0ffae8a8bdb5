import type { ProviderName } from "../types.js";
import { AnthropicEmulation } from "./anthropic/emulation.js";
import type { EmulatorContext, ProviderEmulation } from "./context.js";
import { GeminiEmulation } from "./gemini/emulation.js";
import { OpenAIEmulation } from "./openai/emulation.js";
import { TogetherEmulation } from "./together/emulation.js";

/**
 * Every provider's emulation, by provider name. The type requires one for each provider registered in
 * providers/index.ts, so a provider cannot be added without its emulation.
 */
export const EMULATIONS = {
  openai: (context: EmulatorContext) => new OpenAIEmulation(context),
  anthropic: (context: EmulatorContext) => new AnthropicEmulation(context),
  together: (context: EmulatorContext) => new TogetherEmulation(context),
  gemini: (context: EmulatorContext) => new GeminiEmulation(context),
} satisfies Record<ProviderName, (context: EmulatorContext) => ProviderEmulation>;

/** The emulations of a running emulator, typed per provider (tests reach into them). */
export type Emulations = { [Name in ProviderName]: ReturnType<(typeof EMULATIONS)[Name]> };
