import { spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * Builds dist/ once before the suite: the tests that run the `relay` command run the built code. Type errors are
 * reported by `npm test`'s type check; tsc still emits, so they do not stop the build here.
 */
export default function setup(): void {
  const result = spawnSync(
    process.execPath,
    [join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
    {
      cwd: join(import.meta.dirname, "..", ".."),
      encoding: "utf8",
    },
  );
  if (result.status !== 0 && result.status !== 2)
    throw new Error(`building dist/ failed:\n${result.stdout}${result.stderr}`);
}
