/**
 * For loops that run on promises already settled (a chain of async generators over data in memory), which never
 * give way to I/O: every `every` calls, the returned function waits for the event loop to turn, so that uploads,
 * downloads and timers move on meanwhile.
 */
export function breather(every = 1024): () => Promise<void> | undefined {
  let calls = 0;
  return () => {
    calls += 1;
    if (calls < every) return undefined;
    calls = 0;
    return new Promise<void>((resolve) => setImmediate(resolve));
  };
}
