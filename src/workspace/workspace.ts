import { createReadStream } from "node:fs";
import { access, constants, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { CorruptWorkspaceError, RelayError } from "../errors.js";
import { writeFileAtomic, writeStreamAtomic } from "./atomic.js";
import { assertValidJobId } from "./job-id.js";
import { FileLock, type LockOptions } from "./lock.js";

const RESULTS_SUFFIX = "_results.json";
const INTERNAL_DIR = ".relay";

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
      .filter((id) => /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(id))
      .sort();
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
    const lines = createInterface({
      input: createReadStream(path, "utf8"),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
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
