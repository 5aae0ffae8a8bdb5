import { createReadStream, type FSWatcher, watch } from "node:fs";
import { access, constants, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { CorruptWorkspaceError, RelayError } from "../errors.js";
import { writeFileAtomic, writeStreamAtomic } from "./atomic.js";
import { assertValidJobId } from "./job-id.js";
import { FileLock, type LockOptions } from "./lock.js";

const RESULTS_SUFFIX = "_results.json";
const INTERNAL_DIR = ".relay";
const JOB_ID_FILE_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** What identifies one version of a file for a cache: any write or replacement changes it. */
export interface FileStamp {
  mtimeMs: number;
  size: number;
  ino: number;
}

export function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

/** A job's files as they are on disk: its record and its results (null when absent). */
export interface JobFileStamps {
  record: FileStamp | null;
  results: FileStamp | null;
}

/** Which job a workspace file name belongs to, and whether it is its record or its results; null for others. */
function jobFileOf(name: string): { jobId: string; kind: "record" | "results" } | null {
  if (!name.endsWith(".json") || name.includes(".tmp-")) return null;
  const kind = name.endsWith(RESULTS_SUFFIX) ? "results" : "record";
  const jobId = name.slice(0, -(kind === "results" ? RESULTS_SUFFIX : ".json").length);
  return JOB_ID_FILE_PATTERN.test(jobId) ? { jobId, kind } : null;
}

async function stampOf(path: string): Promise<FileStamp | null> {
  try {
    const found = await stat(path);
    return found.isFile() ? { mtimeMs: found.mtimeMs, size: found.size, ino: found.ino } : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * The workspace directory: the only code that touches it. Job records are `<id>.json`, results `<id>_results.json`
 * (a JSON array with one element per line), and everything else under `.relay/`.
 */
export class Workspace {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  async ensure(): Promise<void> {
    await mkdir(join(this.directory, INTERNAL_DIR), { recursive: true });
  }

  async assertWritable(): Promise<void> {
    try {
      await this.ensure();
      await access(this.directory, constants.W_OK);
      await access(join(this.directory, INTERNAL_DIR), constants.W_OK);
    } catch (error) {
      throw new RelayError(
        "workspace_not_writable",
        `The workspace directory ${this.directory} is not writable (${(error as Error).message}). ` +
          "Fix its permissions or choose another directory.",
      );
    }
  }

  recordPath(jobId: string): string {
    assertValidJobId(jobId);
    return join(this.directory, `${jobId}.json`);
  }

  resultsPath(jobId: string): string {
    assertValidJobId(jobId);
    return join(this.directory, `${jobId}${RESULTS_SUFFIX}`);
  }

  /** Per-job private files: request shards, per-shard results. */
  jobDir(jobId: string): string {
    assertValidJobId(jobId);
    return join(this.directory, INTERNAL_DIR, "jobs", jobId);
  }

  async listJobIds(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return names
      .filter((name) => name.endsWith(".json") && !name.endsWith(RESULTS_SUFFIX) && !name.includes(".tmp-"))
      .map((name) => name.slice(0, -".json".length))
      .filter((id) => JOB_ID_FILE_PATTERN.test(id))
      .sort();
  }

  /** The directory's own modification time: it changes whenever a file in it is created, renamed or removed. */
  async directoryStamp(): Promise<number | null> {
    try {
      return (await stat(this.directory)).mtimeMs;
    } catch {
      return null;
    }
  }

  /** The stamps of every job's record and results file, by job ID (jobs with a results file but no record too). */
  async jobFileStamps(): Promise<Map<string, JobFileStamps>> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw error;
    }
    const files = names.flatMap((name) => {
      const file = jobFileOf(name);
      return file ? [{ ...file, path: join(this.directory, name) }] : [];
    });
    const stamps = new Map<string, JobFileStamps>();
    // A bounded number of stats at once: tens of thousands at a time only queue up in libuv's pool.
    for (let start = 0; start < files.length; start += 64) {
      const batch = files.slice(start, start + 64);
      const found = await Promise.all(batch.map((file) => stampOf(file.path)));
      batch.forEach((file, index) => {
        const entry = stamps.get(file.jobId) ?? { record: null, results: null };
        entry[file.kind] = found[index] ?? null;
        stamps.set(file.jobId, entry);
      });
    }
    return stamps;
  }

  /** The current stamps of one job's files. */
  async stampsOf(jobId: string): Promise<JobFileStamps> {
    const [record, results] = await Promise.all([
      stampOf(this.recordPath(jobId)),
      stampOf(this.resultsPath(jobId)),
    ]);
    return { record, results };
  }

  /**
   * Calls `onChange` with the job whose record or results file was written, replaced or removed, or with null when
   * the platform could not say which (then anything may have changed); `onLost` once the watch has stopped working.
   * Null when the directory cannot be watched at all.
   */
  watchJobFiles(onChange: (jobId: string | null) => void, onLost: () => void): { close(): void } | null {
    let watcher: FSWatcher;
    try {
      watcher = watch(this.directory, { persistent: false }, (_event, name) => {
        if (!name) onChange(null);
        else {
          const file = jobFileOf(name.toString());
          if (file) onChange(file.jobId);
        }
      });
    } catch {
      return null;
    }
    watcher.on("error", () => {
      watcher.close();
      onLost();
    });
    return { close: () => watcher.close() };
  }

  /** The parsed job record, or null if there is none. A record that exists but cannot be parsed is an error. */
  async readRecord(jobId: string): Promise<Record<string, unknown> | null> {
    const path = this.recordPath(jobId);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CorruptWorkspaceError(path, `not valid JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new CorruptWorkspaceError(path, "not a JSON object");
    }
    return parsed as Record<string, unknown>;
  }

  async writeRecord(jobId: string, record: object): Promise<void> {
    await writeFileAtomic(this.recordPath(jobId), `${JSON.stringify(record, null, 2)}\n`);
  }

  async hasResults(jobId: string): Promise<boolean> {
    try {
      return (await stat(this.resultsPath(jobId))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Streams the elements of a results file. Relay writes one element per line; a file written by another tool
   * (the Python Relay writes an indented array) is parsed whole as a fallback.
   */
  async *readResults(jobId: string): AsyncGenerator<unknown> {
    const path = this.resultsPath(jobId);
    const input = createReadStream(path, "utf8");
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      yield* this.parseResultLines(path, lines);
    } finally {
      // A reader that stops early (a page of results) must not leave the file open.
      lines.close();
      input.destroy();
    }
  }

  private async *parseResultLines(path: string, lines: Interface): AsyncGenerator<unknown> {
    let lineNumber = 0;
    let sawClose = false;
    for await (const line of lines) {
      lineNumber += 1;
      if (lineNumber === 1) {
        if (line !== "[") {
          lines.close();
          yield* await this.readResultsWhole(path);
          return;
        }
        continue;
      }
      if (line === "]") {
        sawClose = true;
        continue;
      }
      if (sawClose && line.trim() !== "")
        throw new CorruptWorkspaceError(path, `data after the closing bracket`);
      const element = line.endsWith(",") ? line.slice(0, -1) : line;
      let parsed: unknown;
      try {
        parsed = JSON.parse(element);
      } catch {
        if (lineNumber === 2) {
          // Not one element per line (an indented array, as the Python Relay writes): parse it whole.
          lines.close();
          yield* await this.readResultsWhole(path);
          return;
        }
        throw new CorruptWorkspaceError(path, `line ${lineNumber} is not valid JSON`);
      }
      yield parsed;
    }
    if (!sawClose) throw new CorruptWorkspaceError(path, "the array is not closed (truncated file)");
  }

  private async readResultsWhole(path: string): Promise<unknown[]> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      throw new CorruptWorkspaceError(path, `not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new CorruptWorkspaceError(path, "not a JSON array");
    return parsed;
  }

  /**
   * Writes the results file atomically from a stream of serialised JSON elements, one element per line, in writes
   * of about 256 KB. An element given as a Buffer is copied at once, so the producer may reuse its buffer.
   */
  async writeResults(
    jobId: string,
    elements: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  ): Promise<number> {
    const CHUNK = 256 * 1024;
    let count = 0;
    await writeStreamAtomic(this.resultsPath(jobId), async (write) => {
      let chunk = Buffer.allocUnsafe(CHUNK);
      let used = 0;
      const append = async (bytes: Buffer) => {
        if (used + bytes.length > chunk.length) {
          if (used > 0) await write(chunk.subarray(0, used));
          chunk = Buffer.allocUnsafe(Math.max(CHUNK, bytes.length));
          used = 0;
        }
        used += bytes.copy(chunk, used);
      };
      const opening = Buffer.from("[\n");
      const separator = Buffer.from(",\n");
      for await (const element of elements) {
        await append(count === 0 ? opening : separator);
        await append(typeof element === "string" ? Buffer.from(element) : element);
        count += 1;
      }
      await append(Buffer.from(count === 0 ? "[\n]\n" : "\n]\n"));
      if (used > 0) await write(chunk.subarray(0, used));
    });
    return count;
  }

  async removeResults(jobId: string): Promise<void> {
    await rm(this.resultsPath(jobId), { force: true });
  }

  async removeJobFiles(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true });
  }

  /** Removes staging directories left by submissions that died while writing their requests. */
  async removeStaleStaging(jobId: string): Promise<void> {
    const parent = join(this.directory, INTERNAL_DIR, "jobs");
    const prefix = `${jobId}.staging-`;
    let names: string[] = [];
    try {
      names = await readdir(parent);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(prefix)) await rm(join(parent, name), { recursive: true, force: true });
    }
  }

  async lockJob(jobId: string, options?: LockOptions): Promise<FileLock> {
    assertValidJobId(jobId);
    const dir = join(this.directory, INTERNAL_DIR, "locks");
    await mkdir(dir, { recursive: true });
    return FileLock.acquire(join(dir, `${jobId}.lock`), jobId, options);
  }
}
