/**
 * Text from providers and models (completions, error messages, statuses) shown on a terminal: control characters
 * (escape sequences, carriage returns, C1 controls) and the invisible characters that reorder or hide text
 * (bidirectional overrides, zero-width marks) are shown as escapes, so that nothing a model wrote can move the
 * cursor, rewrite the screen or disguise what is printed. Line breaks are shown as "\n": one result, one line.
 */
const UNSAFE = /[\p{Cc}\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/gu;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function forTerminal(text: string): string {
  return text.replace(
    UNSAFE,
    (char) => NAMED[char] ?? `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, "0")}`,
  );
}
