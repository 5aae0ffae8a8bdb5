import { randomBytes } from "node:crypto";
import { createReadStream, type FSWatcher, mkdirSync, statSync, watch } from "node:fs";
import { access, constants, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { CorruptWorkspaceError, RelayError } from "../errors.js";
import { redactBytes, redactSecrets } from "../util/secrets.js";
import { AtomicFileWriter, isTemporaryFileOf, writeFileAtomic } from "./atomic.js";
import { assertValidJobId, isValidJobId } from "./job-id.js";
import { FileLock, type LockOptions } from "./lock.js";

const RESULTS_SUFFIX = "_results.json";
const INTERNAL_DIR = ".relay";
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
  // Temporary files end in ".tmp-…", not ".json".
  if (!name.endsWith(".json")) return null;
  const kind = name.endsWith(RESULTS_SUFFIX) ? "results" : "record";
  const jobId = name.slice(0, -(kind === "results" ? RESULTS_SUFFIX : ".json").length);
  return isValidJobId(jobId) ? { jobId, kind } : null;
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

/** Spill files a retrieval writes into a job's directory and removes when done. */
const SPILL_FILE = /^shard-\d+\.arrived\.jsonl$/;

/** File system errors that mean the workspace cannot be written (or read), rather than a bug. */
const ACCESS_ERRORS = new Set([
  "EACCES",
  "EPERM",
  "EROFS",
  "ENOTDIR",
  "EISDIR",
  "ENOSPC",
  "EDQUOT",
  "EEXIST",
]);

/**
 * An ordinary file system failure (permissions, a read-only or full disk, a file where a directory should be) as
 * a RelayError saying what could not be done; anything else is passed on unchanged.
 */
export function workspaceError(error: unknown, what: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (error instanceof RelayError || typeof code !== "string" || !ACCESS_ERRORS.has(code)) return error;
  const reason =
    code === "ENOSPC" || code === "EDQUOT"
      ? "the disk is full"
      : code === "ENOTDIR" || code === "EEXIST"
        ? "a file stands where a directory should be"
        : code === "EISDIR"
          ? "a directory stands where a file should be"
          : "permission denied or read-only";
  return new RelayError(
    "workspace_not_writable",
    `Could not ${what}: ${reason} (${code}). Fix the workspace directory's permissions or free space, or choose ` +
      "another directory.",
  );
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

  /**
   * Creates the directory now, synchronously (as the Python Relay's constructor did). An existing directory that
   * cannot be written is left to be read; a path that cannot be a directory at all is an error for every call.
   */
  prepare(): RelayError | null {
    try {
      mkdirSync(join(this.directory, INTERNAL_DIR), { recursive: true });
      return null;
    } catch (error) {
      let isDirectory = false;
      try {
        isDirectory = statSync(this.directory).isDirectory();
      } catch {
        isDirectory = false;
      }
      if (isDirectory) return null;
      return new RelayError(
        "workspace_not_writable",
        `The workspace ${this.directory} cannot be used as a directory ` +
          `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): a file stands in its path, or ` +
          "it cannot be created there. Choose another directory.",
      );
    }
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
      throw workspaceError(error, `list the jobs in ${this.directory}`);
    }
    // Temporary files start with "." and job IDs cannot, so every other <id>.json is a job record.
    return names
      .filter((name) => name.endsWith(".json") && !name.endsWith(RESULTS_SUFFIX))
      .map((name) => name.slice(0, -".json".length))
      .filter(isValidJobId)
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
      throw workspaceError(error, `list the jobs in ${this.directory}`);
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
      if ((error as NodeJS.ErrnoException).code === "EISDIR")
        throw new CorruptWorkspaceError(path, "a directory, not a job record");
      throw workspaceError(error, `read ${path}`);
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

  /** Stores a job record atomically; every configured API key is redacted from it first. */
  async writeRecord(jobId: string, record: object): Promise<void> {
    const path = this.recordPath(jobId);
    try {
      await writeFileAtomic(path, redactSecrets(`${JSON.stringify(record, null, 2)}\n`));
    } catch (error) {
      throw workspaceError(error, `write ${path}`);
    }
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
    const opened = new Promise<void>((resolveOpen, rejectOpen) => {
      input.once("open", () => resolveOpen());
      input.once("error", rejectOpen);
    });
    try {
      await opened;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EISDIR")
        throw new CorruptWorkspaceError(path, "a directory, not a results file");
      throw workspaceError(error, `read ${path}`);
    }
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
   * A new results file, written element by element (see ResultsWriter) and published atomically in place of the
   * old one, which readers see until then.
   */
  async openResults(jobId: string): Promise<ResultsWriter> {
    const path = this.resultsPath(jobId);
    try {
      return new ResultsWriter(await AtomicFileWriter.open(path), (error) =>
        workspaceError(error, `write ${path}`),
      );
    } catch (error) {
      throw workspaceError(error, `write ${path}`);
    }
  }

  /** Removes a job's record (of a job whose submission was abandoned before any batch was made). */
  async removeRecord(jobId: string): Promise<void> {
    await rm(this.recordPath(jobId), { force: true });
  }

  async removeResults(jobId: string): Promise<void> {
    await rm(this.resultsPath(jobId), { force: true });
  }

  async removeJobFiles(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true });
  }

  /**
   * A fresh directory to write a submission's requests into before they become the job's. It lives under
   * `.relay/staging/<job>/`, a directory of its own per job, so no job ID can name another job's staging.
   */
  async stagingDir(jobId: string): Promise<string> {
    assertValidJobId(jobId);
    const dir = join(this.directory, INTERNAL_DIR, "staging", jobId, randomBytes(4).toString("hex"));
    await mkdir(join(this.directory, INTERNAL_DIR, "jobs"), { recursive: true });
    return dir;
  }

  /** Removes staging directories left by submissions of this job that died while writing their requests. */
  async removeStaleStaging(jobId: string): Promise<void> {
    assertValidJobId(jobId);
    await rm(join(this.directory, INTERNAL_DIR, "staging", jobId), { recursive: true, force: true });
  }

  /**
   * Takes the job's lock. Holding it, nobody else writes this job's files, so temporary and spill files of the
   * job left by a process that died are removed at once.
   */
  async lockJob(jobId: string, options?: LockOptions): Promise<FileLock> {
    assertValidJobId(jobId);
    const dir = join(this.directory, INTERNAL_DIR, "locks");
    let lock: FileLock;
    try {
      await mkdir(dir, { recursive: true });
      lock = await FileLock.acquire(join(dir, `${jobId}.lock`), jobId, options);
    } catch (error) {
      throw workspaceError(error, `lock job "${jobId}" in ${this.directory}`);
    }
    try {
      await this.removeLeftovers(jobId);
    } catch {
      // Leftovers cost disk space only; a failure to remove them must not stop the work.
    }
    return lock;
  }

  /** Temporary files of the job's record and results, and spill files of a retrieval, left by a dead process. */
  private async removeLeftovers(jobId: string): Promise<void> {
    const targets = [`${jobId}.json`, `${jobId}${RESULTS_SUFFIX}`];
    for (const name of await readdir(this.directory)) {
      if (targets.some((target) => isTemporaryFileOf(name, target)))
        await rm(join(this.directory, name), { force: true });
    }
    const jobDir = this.jobDir(jobId);
    const inJob = await readdir(jobDir).catch(() => [] as string[]);
    for (const name of inJob) if (SPILL_FILE.test(name)) await rm(join(jobDir, name), { force: true });
  }
}

const OPENING = Buffer.from("[\n");
const SEPARATOR = Buffer.from(",\n");

/**
 * A results file being written: a JSON array, one serialised element per line. Every configured API key is
 * redacted from the elements. Nothing is visible until `publish`; `discard` leaves the old file (if any) as it was.
 */
export class ResultsWriter {
  count = 0;

  constructor(
    private readonly file: AtomicFileWriter,
    private readonly describe: (error: unknown) => unknown,
  ) {}

  /** Appends one element (its JSON); a Buffer is copied at once, so the caller may reuse it. */
  append(element: string | Buffer): void {
    try {
      this.file.bytes(this.count === 0 ? OPENING : SEPARATOR);
      this.file.bytes(redactBytes(typeof element === "string" ? Buffer.from(element) : element));
    } catch (error) {
      throw this.describe(error);
    }
    this.count += 1;
  }

  /** Closes the array and publishes the file; returns how many elements it holds. */
  async publish(): Promise<number> {
    try {
      this.file.bytes(Buffer.from(this.count === 0 ? "[\n]\n" : "\n]\n"));
      await this.file.publish();
    } catch (error) {
      throw this.describe(error);
    }
    return this.count;
  }

  discard(): Promise<void> {
    return this.file.discard();
  }
}
