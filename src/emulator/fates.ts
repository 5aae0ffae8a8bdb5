/**
 * What happens to one request inside an emulated batch. Chosen by `Emulator.setFate(customId, fate)` or by a
 * marker anywhere in the request body, e.g. a prompt containing "[emulator:fail]". "badjson" and "offschema"
 * succeed with structured output that does not parse or does not match its schema (as the markers of
 * structured.ts do); set as a fate, they can be taken back before a retry.
 */
export type RequestFate = "succeed" | "fail" | "error" | "expire" | "invalid" | "badjson" | "offschema";

const MARKER = /\[emulator:(fail|error|expire|invalid)\]/;

export function fateFromText(text: string): RequestFate | undefined {
  return MARKER.exec(text)?.[1] as RequestFate | undefined;
}
