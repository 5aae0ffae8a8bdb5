import type { ProviderEntry } from "../registry.js";

/** Not implemented yet: the registry skips a null entry. */
export const anthropicEntry: ProviderEntry | null = null;
