/**
 * The custom_id rule Relay applies where a provider documents only a length (Together) or nothing (OpenAI, Groq,
 * Azure): 64 characters is the bound other providers enforce, and refusing whitespace and control characters keeps
 * Relay's one-ID-per-line files unambiguous.
 */
export const PRINTABLE_CUSTOM_ID = {
  customIdPattern: /^[^\s\p{Cc}]{1,64}$/u,
  customIdRule: "1 to 64 characters, no spaces or control characters",
} as const;
