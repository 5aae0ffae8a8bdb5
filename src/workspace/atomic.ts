import { randomBytes } from "node:crypto";
import { fdatasync, fsync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { ChunkWriter } from "../util/chunk-writer.js";

/**
 * Where a file is written before it is renamed into place: beside it (the rename stays on one file system), under
 * a name that starts with "." and so can never be a job's file (job IDs cannot start with ".").
 */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/**
 * Whether a file name is a temporary file of `target` (a file name in the same directory) left by a writer that
 * died: in today's form, or in the form earlier versions used (the target's name followed by ".tmp-…"). Exact, so
 * that another job whose ID merely starts with the same characters is never taken for one.
 */
export function isTemporaryFileOf(name: string, target: string): boolean {
  const pattern = /^(\.?)(.+)\.tmp-\d+-[0-9a-f]{8}$/.exec(name);
  return pattern !== null && pattern[2] === target;
}

/** Writes a file so that readers see either the old content or the new, never a mix or a truncation. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPathFor(path);
  try {
    const handle = await open(temporary, "w", 0o600);
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** While a large file is written, it is flushed to disk in the background every this many bytes. */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

/**
 * A file written by appending (through a ChunkWriter) into a temporary file beside it (see temporaryPathFor),
 * then published by a rename once complete and on disk (fsynced), so that readers see the old content or the new,
 * never a part; or discarded. Every 64 MB written, the file is flushed to disk in the background, so that
 * publishing a large file does not wait for all of it at the end.
 */
export class AtomicFileWriter {
  private syncing: Promise<void> | null = null;
  private failure: unknown;
  private unsynced = 0;
  private readonly writer: ChunkWriter;

  private constructor(
    readonly path: string,
    private readonly temporary: string,
  ) {
    this.writer = new ChunkWriter(temporary, (chunk) => this.written(chunk.length));
  }

  static async open(path: string): Promise<AtomicFileWriter> {
    await mkdir(dirname(path), { recursive: true });
    return new AtomicFileWriter(path, temporaryPathFor(path));
  }

  /** Appends bytes (copied at once). */
  bytes(bytes: Buffer): void {
    if (this.failure !== undefined) throw this.failure;
    this.writer.bytes(bytes);
  }

  private written(bytes: number): void {
    this.unsynced += bytes;
    if (this.unsynced < SYNC_EVERY_BYTES || this.syncing !== null) return;
    this.unsynced = 0;
    this.syncing = fdatasyncAsync(this.writer.fd).then(
      () => {
        this.syncing = null;
      },
      (error: unknown) => {
        this.syncing = null;
        this.failure ??= error;
      },
    );
  }

  /** Writes what is buffered, flushes the file to disk and renames it into place. */
  async publish(): Promise<void> {
    try {
      this.writer.flush();
      await this.syncing;
      if (this.failure !== undefined) throw this.failure;
      await fsyncAsync(this.writer.fd);
      this.writer.close();
      await rename(this.temporary, this.path);
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  /** Abandons the file: nothing is published and the temporary file is removed. */
  async discard(): Promise<void> {
    await this.syncing;
    this.writer.destroy();
    await rm(this.temporary, { force: true });
  }
}

/**
 * Streams content into a file atomically (see AtomicFileWriter): it appears in place only when `produce` finished
 * without error.
 */
export async function writeStreamAtomic(
  path: string,
  produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>,
): Promise<void> {
  const file = await AtomicFileWriter.open(path);
  try {
    await produce(async (chunk) => file.bytes(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
  } catch (error) {
    await file.discard();
    throw error;
  }
  await file.publish();
}
