import { sanitize } from "./sanitize.js";
import { visibleLength } from "./style.js";

export interface Column {
  header: string;
  align?: "left" | "right";
}

/** A cell's text (sanitised when drawn) and, optionally, how to colour it. */
export type Cell = string | { text: string; colour?: (text: string) => string };

/**
 * A plain table: a header line, then one line per row, columns padded to their widest cell and separated by two
 * spaces. Cell text is sanitised (one line each, no control characters).
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly Cell[][],
  header: (text: string) => string,
): string[] {
  const texts = rows.map((row) => row.map((cell) => sanitize(typeof cell === "string" ? cell : cell.text)));
  const widths = columns.map((column, index) =>
    Math.max(visibleLength(column.header), ...texts.map((row) => visibleLength(row[index] ?? ""))),
  );
  const pad = (text: string, index: number, shown = text) => {
    const room = " ".repeat(Math.max(0, (widths[index] ?? 0) - visibleLength(text)));
    return columns[index]?.align === "right" ? room + shown : shown + room;
  };
  const lines = [
    header(
      columns
        .map((column, index) => pad(column.header, index))
        .join("  ")
        .trimEnd(),
    ),
  ];
  rows.forEach((row, rowIndex) => {
    const cells = row.map((cell, index) => {
      const text = texts[rowIndex]?.[index] ?? "";
      const colour = typeof cell === "string" ? undefined : cell.colour;
      return pad(text, index, colour ? colour(text) : text);
    });
    lines.push(cells.join("  ").trimEnd());
  });
  return lines;
}
