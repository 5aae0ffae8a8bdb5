/**
 * Characters that can act on a terminal rather than show: C0 controls (escape sequences start with ESC), DEL, C1
 * controls, and the Unicode bidirectional overrides that reorder what is shown. Tab and newline are handled apart.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, with newline and tab.
const UNSAFE_INLINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOf(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (character === "\n") return "\\n";
  if (character === "\t") return "\\t";
  if (character === "\r") return "\\r";
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Text from a provider, a file or a record made safe to print for people: every control character is shown as an
 * escape (`\x1b`), so that nothing in it can move the cursor, recolour or retitle the terminal. Newlines and tabs
 * are kept with `multiline`, else escaped too. JSON output never goes through this: it stays exact.
 */
export function sanitize(text: string, options: { multiline?: boolean } = {}): string {
  return text.replace(options.multiline ? UNSAFE : UNSAFE_INLINE, escapeOf);
}
