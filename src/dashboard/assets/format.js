// @ts-check
/** How numbers, money, times and statuses read on the page. */

const numberFormat = new Intl.NumberFormat();

/** @param {number | null | undefined} value */
export function count(value) {
  return value === null || value === undefined ? "–" : numberFormat.format(value);
}

/** Dollars: cents for sums of a cent or more, else four significant digits. @param {number | null | undefined} usd */
export function money(usd) {
  if (usd === null || usd === undefined) return "–";
  if (usd === 0) return "$0";
  if (Math.abs(usd) >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}

/** @param {string | null | undefined} iso */
export function dateTime(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** @param {number} ms */
export function duration(ms) {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** "3 h ago", "in 29 days". @param {string | null | undefined} iso @param {number} [now] */
export function relative(iso, now = Date.now()) {
  if (!iso) return "–";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = at - now;
  if (Math.abs(delta) < 5000) return "just now";
  return delta < 0 ? `${duration(delta)} ago` : `in ${duration(delta)}`;
}

/** @param {string} status */
export const statusLabel = (status) => status.replace(/_/g, " ");

/** "1 job", "3 jobs". @param {number} value @param {string} word */
export const counted = (value, word) => `${count(value)} ${word}${value === 1 ? "" : "s"}`;
