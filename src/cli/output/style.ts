/** Whether to colour what goes to a stream: only a terminal, and never when NO_COLOR is set (no-color.org). */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export type StyleName = keyof typeof codes;
export type Style = Record<StyleName, (text: string) => string>;

/** ANSI styles, or identity functions when colour is off. */
export function styles(enabled: boolean): Style {
  const entries = Object.entries(codes).map(([name, [open, close]]) => [
    name,
    enabled ? (text: string) => `\u001b[${open}m${text}\u001b[${close}m` : (text: string) => text,
  ]);
  return Object.fromEntries(entries) as Style;
}

/** The colour that says how a status went: green done, red failed, yellow on its way. */
export function statusStyle(style: Style, status: string): (text: string) => string {
  if (status === "completed" || status === "succeeded") return style.green;
  if (status === "failed" || status === "expired" || status === "corrupt") return style.red;
  if (status === "cancelled" || status === "cancelling") return style.dim;
  return style.yellow;
}

/** Visible width of a string with ANSI styles in it. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the SGR sequences styles() adds.
  return [...text.replace(/\u001b\[[0-9;]*m/g, "")].length;
}
