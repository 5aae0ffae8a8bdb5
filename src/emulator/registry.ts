import type { ProviderName } from "../types.js";
import { AnthropicEmulation } from "./anthropic/emulation.js";
import { AzureEmulation } from "./azure/emulation.js";
import type { EmulatorContext, ProviderEmulation } from "./context.js";
import { GeminiEmulation } from "./gemini/emulation.js";
import { GroqEmulation } from "./groq/emulation.js";
import { MistralEmulation } from "./mistral/emulation.js";
import { OpenAIEmulation } from "./openai/emulation.js";
import { TogetherEmulation } from "./together/emulation.js";
import { XaiEmulation } from "./xai/emulation.js";

/**
 * Every provider's emulation, by provider name. The type requires one for each provider registered in
 * providers/index.ts, so a provider cannot be added without its emulation.
 */
export const EMULATIONS = {
  openai: (context: EmulatorContext) => new OpenAIEmulation(context),
  anthropic: (context: EmulatorContext) => new AnthropicEmulation(context),
  together: (context: EmulatorContext) => new TogetherEmulation(context),
  gemini: (context: EmulatorContext) => new GeminiEmulation(context),
  groq: (context: EmulatorContext) => new GroqEmulation(context),
  azure: (context: EmulatorContext) => new AzureEmulation(context),
  mistral: (context: EmulatorContext) => new MistralEmulation(context),
  xai: (context: EmulatorContext) => new XaiEmulation(context),
} satisfies Record<ProviderName, (context: EmulatorContext) => ProviderEmulation>;

/** The emulations of a running emulator, typed per provider (tests reach into them). */
export type Emulations = { [Name in ProviderName]: ReturnType<(typeof EMULATIONS)[Name]> };
