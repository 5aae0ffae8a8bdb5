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
  data?: Buffer;
  lines?: () => Iterable<string>;
}

export class FileStore {
  private readonly files = new Map<string, StoredFile>();

  put(file: StoredFile): StoredFile {
    this.files.set(file.id, file);
    return file;
  }

  get(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  delete(id: string): boolean {
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

  /** The file's content as lines, without building it as one string. */
  *contentLines(file: StoredFile): Iterable<string> {
    if (file.lines) {
      yield* file.lines();
      return;
    }
    const text = file.data?.toString("utf8") ?? "";
    for (const line of text.split("\n")) if (line !== "") yield line;
  }
}

let sequence = 0;
/** IDs that look like the provider's, unique within the process. */
export function makeId(prefix: string): string {
  sequence += 1;
  return `${prefix}${Date.now().toString(36)}${sequence.toString(36).padStart(6, "0")}`;
}
