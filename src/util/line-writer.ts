import { createWriteStream, type WriteStream } from "node:fs";
import { finished } from "node:stream/promises";

/** Appends lines to a file, waiting for the disk when its buffer is full so memory stays flat. */
export class LineWriter {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(path: string) {
    this.stream = createWriteStream(path, { mode: 0o600 });
    this.stream.on("error", (error) => {
      this.failure = error;
    });
  }

  async write(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(`${line}\n`)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.stream.off("error", reject);
          resolve();
        };
        this.stream.once("drain", onDrain);
        this.stream.once("error", reject);
      });
    }
  }

  async close(): Promise<void> {
    this.stream.end();
    await finished(this.stream);
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.stream.destroy();
  }
}
