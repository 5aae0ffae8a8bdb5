import { invalid } from "./errors.js";

/** An item of a newest-first listing. */
export interface Listed {
  name: string;
  createdAt: number;
}

const newerFirst = (a: Listed, b: Listed) => b.createdAt - a.createdAt || (a.name < b.name ? 1 : -1);

function token(item: Listed): string {
  return Buffer.from(JSON.stringify([item.createdAt, item.name])).toString("base64url");
}

function cursorOf(pageToken: string): Listed {
  try {
    const [createdAt, name] = JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8")) as unknown[];
    if (typeof createdAt === "number" && typeof name === "string") return { createdAt, name };
  } catch {
    // refused below
  }
  throw invalid("Invalid page token.");
}

/**
 * One page of a newest-first listing, Google style: `pageSize` (clamped to `max`), an opaque `pageToken`, and a
 * `nextPageToken` only when more items follow. The token names the last item served, so items created or
 * deleted between pages neither repeat nor go missing. Returns null for a listing asked for without a page
 * size when `pageSize` is required.
 */
export function pageOf<T extends Listed>(
  items: Iterable<T>,
  query: URLSearchParams,
  options: { defaultSize: number | null; max: number },
): { items: T[]; nextPageToken?: string } | null {
  const raw = query.get("pageSize") ?? query.get("page_size");
  const asked = raw === null || raw === "" ? 0 : Number(raw);
  if (!Number.isInteger(asked) || asked < 0)
    throw invalid(`Invalid value at 'page_size' (TYPE_INT32), "${raw}"`);
  const size = asked === 0 ? options.defaultSize : Math.min(asked, options.max);
  if (size === null) return null;
  const sorted = [...items].sort(newerFirst);
  const pageToken = query.get("pageToken") ?? query.get("page_token");
  let start = 0;
  if (pageToken) {
    const cursor = cursorOf(pageToken);
    start = sorted.findIndex((item) => newerFirst(item, cursor) > 0);
    if (start === -1) start = sorted.length;
  }
  const page = sorted.slice(start, start + size);
  const last = page.at(-1);
  return start + size < sorted.length && last ? { items: page, nextPageToken: token(last) } : { items: page };
}
