import { estimateTokens } from "./completion.js";

/** The shortest prompt prefix the providers cache (1024 tokens for most models); shorter ones are not cached. */
export const MIN_CACHED_TOKENS = 1_024;

/**
 * Prompt prefixes in a provider's prompt cache, by model and text: the first request with one writes it, later ones
 * read it while it lives (each read renews it). Anthropic caches what `cache_control` marks; Gemini caches
 * repeated prefixes on its own (implicit caching).
 */
export class PromptCache {
  private readonly entries = new Map<string, number>();

  /** Tokens read from and written to the cache by a request with this prefix at `now`. */
  use(model: string, prefix: { text: string; ttlMs: number }, now: number): { read: number; write: number } {
    const tokens = estimateTokens(prefix.text);
    if (tokens < MIN_CACHED_TOKENS) return { read: 0, write: 0 };
    const key = `${model}\n${prefix.text}`;
    const expiresAt = this.entries.get(key);
    this.entries.set(key, now + prefix.ttlMs);
    return expiresAt !== undefined && expiresAt > now
      ? { read: tokens, write: 0 }
      : { read: 0, write: tokens };
  }
}
