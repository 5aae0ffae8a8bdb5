import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { finished } from "node:stream/promises";

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

/**
 * Streams content into a temporary file and renames it into place only when `produce` finished without error.
 * `write` resolves once the chunk is buffered, waiting for the disk when the buffer is full.
 */
export async function writeStreamAtomic(
  path: string,
  produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPathFor(path);
  const stream = createWriteStream(temporary, { mode: 0o600 });
  const write = (chunk: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      if (stream.write(chunk)) resolve();
      else {
        const onDrain = () => {
          stream.off("error", onError);
          resolve();
        };
        const onError = (error: Error) => {
          stream.off("drain", onDrain);
          reject(error);
        };
        stream.once("drain", onDrain);
        stream.once("error", onError);
      }
    });
  try {
    await produce(write);
    stream.end();
    await finished(stream);
    const handle = await open(temporary, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    stream.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}
