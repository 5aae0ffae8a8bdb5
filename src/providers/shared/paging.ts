/** Paged list endpoints, walked one way for every provider. */

/** Tolerated difference between the local clock and a provider's, when a listing is cut off by creation time. */
export const CLOCK_SLACK_MS = 10 * 60_000;

export interface Page<T> {
  items: readonly T[];
  /** What to pass to fetch the next page, or null when this was the last. */
  next: string | null;
}

/**
 * Every item of a paged list, fetching a page only when the one before has been used up. An empty page ends the
 * list unless `throughEmptyPages` (for APIs whose pages are windows that may hold nothing, while the cursor goes on).
 */
export async function* pages<T>(
  fetchPage: (cursor: string | null) => Promise<Page<T>>,
  options: { throughEmptyPages?: boolean } = {},
): AsyncGenerator<T> {
  let cursor: string | null = null;
  for (;;) {
    const page: Page<T> = await fetchPage(cursor);
    yield* page.items;
    if (page.next === null || page.next === cursor) return;
    if (page.items.length === 0 && !options.throughEmptyPages) return;
    cursor = page.next;
  }
}

/**
 * The wanted batches out of a newest-first listing, for watching many batches with few calls. Stops once all are
 * found, once the listing reaches batches created before `since` (less clock slack), or a page more than the
 * batches wanted has been read: past that, asking for the rest one by one is cheaper than paging on.
 */
export async function pickListed<T, B>(
  listing: AsyncIterable<T>,
  options: {
    wanted: readonly string[];
    since: number;
    pageSize: number;
    idOf: (item: T) => string | undefined;
    /** Creation time in unix ms, or NaN when unknown. */
    createdAtOf: (item: T) => number;
    convert: (item: T) => B | Promise<B>;
  },
): Promise<Map<string, B>> {
  const wanted = new Set(options.wanted);
  const found = new Map<string, B>();
  let budget = options.pageSize * (Math.ceil(wanted.size / options.pageSize) + 1);
  for await (const item of listing) {
    const id = options.idOf(item);
    if (id !== undefined && wanted.has(id)) found.set(id, await options.convert(item));
    budget -= 1;
    if (
      found.size === wanted.size ||
      budget === 0 ||
      options.createdAtOf(item) < options.since - CLOCK_SLACK_MS
    )
      break;
  }
  return found;
}
