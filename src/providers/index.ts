import { anthropicEntry } from "./anthropic/entry.js";
import { geminiEntry } from "./gemini/entry.js";
import { openaiEntry } from "./openai/entry.js";
import { togetherEntry } from "./together/entry.js";

/** The providers Relay supports. Registering a provider is one line here (see CONTRIBUTING.md). */
export const PROVIDER_ENTRIES = [openaiEntry, anthropicEntry, togetherEntry, geminiEntry] as const;
