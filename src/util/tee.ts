/**
 * Splits one async iterable into two that each see every item, reading the source once. A branch that runs ahead
 * waits while the other has `limit` items unread, so memory stays bounded; a branch that stops (break, throw)
 * no longer holds the other back. `stop()` ends both and closes the source.
 */
export function tee<T>(
  source: AsyncIterable<T>,
  limit = 1_024,
): { branches: [AsyncGenerator<T>, AsyncGenerator<T>]; stop(): Promise<void> } {
  const iterator = source[Symbol.asyncIterator]();
  const buffers: T[][] = [[], []];
  const active = [true, true];
  let finished = false;
  let failure: { error: unknown } | null = null;
  let stopped = false;
  let pulling: Promise<void> | null = null;
  let wake: () => void = () => {};
  let changed = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const notify = () => {
    const resolve = wake;
    changed = new Promise<void>((next) => {
      wake = next;
    });
    resolve();
  };

  const pull = (self: number): Promise<void> => {
    pulling ??= (async () => {
      const other = 1 - self;
      while (!stopped && active[other] && (buffers[other]?.length ?? 0) >= limit) await changed;
      if (stopped) return;
      try {
        const next = await iterator.next();
        if (next.done) finished = true;
        else for (const [index, buffer] of buffers.entries()) if (active[index]) buffer.push(next.value);
      } catch (error) {
        failure = { error };
        finished = true;
      }
    })().finally(() => {
      pulling = null;
      notify();
    });
    return pulling;
  };

  async function* branch(self: number): AsyncGenerator<T> {
    try {
      for (;;) {
        if (stopped) return;
        const buffer = buffers[self] as T[];
        if (buffer.length > 0) {
          const item = buffer.shift() as T;
          notify();
          yield item;
        } else if (finished) {
          if (failure) throw failure.error;
          return;
        } else await pull(self);
      }
    } finally {
      active[self] = false;
      buffers[self] = [];
      notify();
    }
  }

  return {
    branches: [branch(0), branch(1)],
    async stop() {
      if (stopped) return;
      stopped = true;
      notify();
      await iterator.return?.();
    },
  };
}
