import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let sequence = 0;

/**
 * The emulator's own scratch directory, where uploaded files are kept instead of in memory. Made on first use in
 * the system's temporary directory, removed when the emulator closes (and, should the process end without
 * closing it, when the process exits).
 */
export class EmulatorStorage {
  private directory: string | undefined;
  private readonly removeOnExit = () => this.remove();

  /** A fresh path in the directory (nothing is created there). */
  newPath(suffix: string): string {
    if (!this.directory) {
      this.directory = mkdtempSync(join(tmpdir(), "relay-emulator-"));
      process.once("exit", this.removeOnExit);
    }
    sequence += 1;
    return join(this.directory, `${sequence.toString(36)}-${suffix}`);
  }

  /** Removes the directory and everything in it; a later newPath makes a new one. */
  remove(): void {
    const directory = this.directory;
    if (!directory) return;
    this.directory = undefined;
    process.off("exit", this.removeOnExit);
    rmSync(directory, { recursive: true, force: true });
  }
}
