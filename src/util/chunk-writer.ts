import { closeSync, openSync, writeSync } from "node:fs";

const CHUNK_BYTES = 256 * 1024;
const NEWLINE = 10;

/**
 * Appends text and bytes to a new file through a 256 KB buffer, each full buffer written at once with a
 * synchronous write: a write to the page cache takes tens of microseconds, while handing each one to libuv's
 * thread pool costs a thread switch (on a busy machine, far more than the write). Counts the bytes written;
 * `onChunk` sees every chunk as it goes to the file (e.g. to hash it).
 */
export class ChunkWriter {
  readonly fd: number;
  private chunk: Buffer;
  private used = 0;
  private closed = false;
  /** Bytes appended so far, buffered ones included: the offset the next append starts at. */
  bytesWritten = 0;
  /** Bytes in the file so far (the rest is buffered). */
  flushedBytes = 0;

  constructor(
    readonly path: string,
    private readonly onChunk?: (chunk: Buffer) => void,
    chunkBytes = CHUNK_BYTES,
  ) {
    this.fd = openSync(path, "w", 0o600);
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  /** Appends text as UTF-8; returns its length in bytes. */
  text(text: string): number {
    // A character takes at most 3 bytes in UTF-8 per UTF-16 unit.
    if (this.used + text.length * 3 > this.chunk.length) {
      this.flush();
      if (text.length * 3 > this.chunk.length) return this.bytes(Buffer.from(text));
    }
    const written = this.chunk.write(text, this.used);
    this.used += written;
    this.bytesWritten += written;
    return written;
  }

  /** Appends text and a newline; returns the bytes written, the newline included. */
  line(text: string): number {
    const written = this.text(text);
    if (this.used === this.chunk.length) this.flush();
    this.chunk[this.used] = NEWLINE;
    this.used += 1;
    this.bytesWritten += 1;
    return written + 1;
  }

  /** Appends bytes (copied at once); returns their length. */
  bytes(bytes: Buffer): number {
    if (this.used + bytes.length > this.chunk.length) {
      this.flush();
      if (bytes.length > this.chunk.length) {
        this.write(bytes);
        this.bytesWritten += bytes.length;
        return bytes.length;
      }
    }
    this.used += bytes.copy(this.chunk, this.used);
    this.bytesWritten += bytes.length;
    return bytes.length;
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.used === 0 || this.closed) return;
    this.write(this.chunk.subarray(0, this.used));
    this.used = 0;
  }

  private write(bytes: Buffer): void {
    this.onChunk?.(bytes);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.flushedBytes += bytes.length;
  }

  /** Writes what is buffered and closes the file. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      closeSync(this.fd);
    }
  }

  /** Closes the file without writing what is buffered. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
