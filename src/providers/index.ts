import { anthropicEntry } from "./anthropic/entry.js";
import { azureEntry } from "./azure/entry.js";
import { geminiEntry } from "./gemini/entry.js";
import { groqEntry } from "./groq/entry.js";
import { mistralEntry } from "./mistral/entry.js";
import { openaiEntry } from "./openai/entry.js";
import { togetherEntry } from "./together/entry.js";
import { xaiEntry } from "./xai/entry.js";

/** The providers Relay supports. Registering a provider is one line here (see CONTRIBUTING.md). */
export const PROVIDER_ENTRIES = [
  openaiEntry,
  anthropicEntry,
  togetherEntry,
  geminiEntry,
  mistralEntry,
  groqEntry,
  azureEntry,
  xaiEntry,
] as const;
