/**
 * Downloads of a job's shards, started in shard order: at most `running` at once, and at most `held` shards held
 * (downloading, or downloaded and not yet released by the reader), so that spill files on disk and their places in
 * memory stay bounded whatever the job's size, while the next shards download as the reader works through the
 * first. A shard the reader asks for is always started, even past the limits, so that a reader who needs several
 * shards at once (requests of several models interleaved) is never left waiting.
 */
export class ShardDownloads<T extends { finished: Promise<void> }> {
  private readonly started = new Map<number, Promise<T>>();
  private next = 0;
  private held = 0;
  private active = 0;
  private wanted = -1;
  private failure: unknown;

  constructor(
    private readonly count: number,
    private readonly limits: { running: number; held: number },
    /** Starts a download; resolves once it has started, its `finished` when it has ended. */
    private readonly download: (index: number) => Promise<T>,
  ) {}

  /** The first failure of any download so far, to stop at once rather than when the reader reaches it. */
  get failed(): unknown {
    return this.failure;
  }

  /** Starts downloading up to the limit. */
  start(): void {
    this.fill();
  }

  /** The shard's download once it has started, started now if it was not. */
  get(index: number): Promise<T> {
    if (index >= this.count) throw new RangeError(`no shard ${index}`);
    this.wanted = Math.max(this.wanted, index);
    this.fill();
    return this.started.get(index) as Promise<T>;
  }

  /** The reader is done with the shard: its place goes to the next one. */
  release(index: number): void {
    if (!this.started.has(index)) return;
    this.held -= 1;
    this.fill();
  }

  /** Starts no more downloads; resolves with those started, settled (for cleaning up what they left). */
  async stop(): Promise<PromiseSettledResult<T>[]> {
    this.next = this.count;
    return Promise.allSettled([...this.started.values()]);
  }

  private fill(): void {
    while (
      this.next < this.count &&
      ((this.active < this.limits.running && this.held < this.limits.held) || this.next <= this.wanted)
    ) {
      const index = this.next;
      this.next += 1;
      this.held += 1;
      this.active += 1;
      const download = this.download(index);
      const ended = () => {
        this.active -= 1;
        this.fill();
      };
      // Failures are kept for the reader (failed, get) rather than reported as unhandled.
      const failed = (error: unknown) => {
        this.failure ??= error;
        this.active -= 1;
      };
      download.then((started) => started.finished.then(ended, failed), failed);
      this.started.set(index, download);
    }
  }
}
