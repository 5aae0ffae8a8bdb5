import { closeSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import type { EmulatorStorage } from "./storage.js";

/** A file held by an emulated provider: uploaded bytes, or result lines generated when read. */
export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  createdAt: number;
  /** -1 until counted, for generated files (see FileStore.sizeOf). */
  bytes: number;
  /** When the provider deletes the file by itself (unix ms), if the uploader or batch asked for it. */
  expiresAt?: number | null;
  /** The uploaded bytes; read from `path` on each access when the store keeps its files on disk. */
  data?: Buffer;
  lines?: () => Iterable<string>;
  /** Where the uploaded bytes are kept, when the store keeps its files on disk. */
  path?: string;
}

const CHUNK_BYTES = 256 * 1024;

/** One line of a file on disk: its text, where it starts (in bytes), its length without the newline, its number. */
export interface PlacedLine {
  text: string;
  offset: number;
  bytes: number;
  number: number;
}

/** The lines of a file on disk, read in blocks, each with its place (empty lines are skipped, but counted). */
export function* placedLines(path: string): Generator<PlacedLine> {
  const fd = openSync(path, "r");
  try {
    let carry = Buffer.alloc(0);
    let carryOffset = 0;
    let number = 0;
    const block = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const read = readSync(fd, block, 0, block.length, null);
      const data =
        carry.length === 0 ? block.subarray(0, read) : Buffer.concat([carry, block.subarray(0, read)]);
      let start = 0;
      for (;;) {
        const newline = data.indexOf(10, start);
        if (newline === -1) break;
        number += 1;
        if (newline > start) {
          yield {
            text: data.toString("utf8", start, newline),
            offset: carryOffset + start,
            bytes: newline - start,
            number,
          };
        }
        start = newline + 1;
      }
      if (read === 0) {
        if (start < data.length) {
          number += 1;
          yield {
            text: data.toString("utf8", start),
            offset: carryOffset + start,
            bytes: data.length - start,
            number,
          };
        }
        return;
      }
      carry = Buffer.from(data.subarray(start));
      carryOffset += start;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The files of one emulated provider. With an EmulatorStorage, uploaded bytes are written to its directory as they
 * are stored and only their place is kept in memory; `data` still reads them (from disk), so code that looks at an
 * upload needs no change.
 */
export class FileStore {
  private readonly files = new Map<string, StoredFile>();

  constructor(private readonly storage?: EmulatorStorage) {}

  put(file: StoredFile): StoredFile {
    if (this.storage && file.data && file.path === undefined)
      keepOnDisk(file, this.storage.newPath("upload"));
    this.files.set(file.id, file);
    return file;
  }

  get(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  delete(id: string): boolean {
    const file = this.files.get(id);
    if (file?.path) rmSync(file.path, { force: true });
    return this.files.delete(id);
  }

  list(): StoredFile[] {
    return [...this.files.values()];
  }

  /** The file's size; for generated result files, counted once on first asking. */
  sizeOf(file: StoredFile): number {
    if (file.bytes < 0) {
      let bytes = 0;
      for (const line of this.contentLines(file)) bytes += Buffer.byteLength(line) + 1;
      file.bytes = bytes;
    }
    return file.bytes;
  }

  /** The file's first bytes, without reading the rest. */
  head(file: StoredFile, bytes: number): Buffer {
    if (!file.path) return (file.data ?? Buffer.alloc(0)).subarray(0, bytes);
    const fd = openSync(file.path, "r");
    try {
      const head = Buffer.alloc(bytes);
      return head.subarray(0, readSync(fd, head, 0, bytes, 0));
    } finally {
      closeSync(fd);
    }
  }

  /** The file's content as lines, without building it as one string. */
  *contentLines(file: StoredFile): Iterable<string> {
    if (file.lines) {
      yield* file.lines();
      return;
    }
    if (file.path) {
      for (const line of placedLines(file.path)) yield line.text;
      return;
    }
    const text = file.data?.toString("utf8") ?? "";
    for (const line of text.split("\n")) if (line !== "") yield line;
  }
}

/** Moves a file's bytes to `path`; its `data` reads them from there (and writes them there) from now on. */
function keepOnDisk(file: StoredFile, path: string): void {
  writeFileSync(path, file.data as Buffer, { mode: 0o600 });
  file.path = path;
  Object.defineProperty(file, "data", {
    enumerable: true,
    configurable: true,
    get: () => readFileSync(path),
    set: (value: Buffer | undefined) => writeFileSync(path, value ?? Buffer.alloc(0), { mode: 0o600 }),
  });
}

let sequence = 0;
/** IDs that look like the provider's, unique within the process. */
export function makeId(prefix: string): string {
  sequence += 1;
  return `${prefix}${Date.now().toString(36)}${sequence.toString(36).padStart(6, "0")}`;
}
