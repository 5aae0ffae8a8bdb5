/**
 * What happens to one request inside an emulated batch. Chosen by `Emulator.setFate(customId, fate)` or by a
 * marker anywhere in the request body, e.g. a prompt containing "[emulator:fail]".
 */
export type RequestFate = "succeed" | "fail" | "error" | "expire" | "invalid";

const MARKER = /\[emulator:(fail|error|expire|invalid)\]/;

export function fateFromText(text: string): RequestFate | undefined {
  return MARKER.exec(text)?.[1] as RequestFate | undefined;
}
