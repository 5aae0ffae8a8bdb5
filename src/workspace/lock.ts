import { open, readFile, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { JobLockedError } from "../errors.js";

export interface LockOptions {
  /** How long to wait for another holder before giving up. */
  waitMs?: number;
  /** A lock whose file has not been refreshed for this long is taken over. */
  staleMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  acquired_at: string;
}

const DEFAULT_WAIT_MS = 60_000;
const DEFAULT_STALE_MS = 30_000;

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LockOwner;
  } catch {
    return null;
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  const owner = await readOwner(path);
  if (owner && owner.host === hostname() && owner.pid !== process.pid && !isProcessAlive(owner.pid))
    return true;
  try {
    const info = await stat(path);
    return Date.now() - info.mtimeMs > staleMs;
  } catch {
    return false;
  }
}

/**
 * An exclusive lock held through a file created with O_EXCL. The holder refreshes the file's mtime while it
 * works, so a lock left by a crashed process is taken over once stale, or at once when its process is gone.
 */
export class FileLock {
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly path: string,
    private readonly refreshMs: number,
  ) {}

  static async acquire(path: string, label: string, options: LockOptions = {}): Promise<FileLock> {
    const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    const deadline = Date.now() + waitMs;
    let delay = 25;
    for (;;) {
      try {
        const handle = await open(path, "wx", 0o600);
        const owner: LockOwner = {
          pid: process.pid,
          host: hostname(),
          acquired_at: new Date().toISOString(),
        };
        await handle.writeFile(JSON.stringify(owner));
        await handle.close();
        const lock = new FileLock(path, Math.max(50, Math.floor(staleMs / 3)));
        lock.startHeartbeat();
        return lock;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      if (await isStale(path, staleMs)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        const owner = await readOwner(path);
        throw new JobLockedError(
          label,
          owner ? `pid ${owner.pid} on ${owner.host} since ${owner.acquired_at}` : "unknown",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
  }

  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(this.path, now, now).catch(() => {});
    }, this.refreshMs);
    this.heartbeat.unref();
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    const owner = await readOwner(this.path);
    if (owner && owner.pid === process.pid && owner.host === hostname()) await rm(this.path, { force: true });
  }
}
