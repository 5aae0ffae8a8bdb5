/**
 * `npm run bench:embeddings`: an embeddings job of n texts (default 100k) × 1536 dimensions through Relay and its
 * emulator, measuring the Relay process's peak memory (its own VmHWM, per phase) and the workspace's disk, sampled
 * through the run (the peak is when the shards' spill files and the ordered results file exist side by side).
 *
 *   npm run bench:embeddings -- --size 100k
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EmulatorProcess, ZERO_TIMING } from "./emulator.js";
import type { ChildResult } from "./measure.js";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, "../..");
const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: { size: { type: "string", default: "100k" } },
});
const size = Math.round(
  Number.parseFloat(flags.size) * (/k$/i.test(flags.size) ? 1e3 : /m$/i.test(flags.size) ? 1e6 : 1),
);

async function bytesUnder(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      total += (await stat(join(entry.parentPath, entry.name))).size;
    } catch {
      // A file removed between the listing and its stat (a spill file, once merged).
    }
  }
  return total;
}

const workspace = await mkdtemp(join(tmpdir(), "relay-bench-embeddings-"));
const emulator = await EmulatorProcess.start(ROOT, ZERO_TIMING);
const out = join(workspace, "..", `${workspace.split("/").pop()}.result.json`);
let peakDisk = 0;
const sampler = setInterval(() => {
  bytesUnder(workspace).then(
    (bytes) => {
      peakDisk = Math.max(peakDisk, bytes);
    },
    () => {},
  );
}, 250);
try {
  const child = spawn(
    process.execPath,
    [
      join(BENCH_DIR, "child-embeddings.js"),
      JSON.stringify({ size, out, workspace, emulator: emulator.origin }),
    ],
    { stdio: "inherit" },
  );
  await new Promise((done) => child.once("exit", done));
  clearInterval(sampler);
  const result = JSON.parse(await readFile(out, "utf8")) as ChildResult;
  const results = (await stat(join(workspace, "embeddings_results.json"))).size;
  const finalDisk = await bytesUnder(workspace);
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  console.log(`embeddings job: ${size} texts × 1536 dimensions (text-embedding-3-small), ok=${result.ok}`);
  for (const phase of result.phases)
    console.log(`  ${phase.name.padEnd(8)} ${phase.seconds.toFixed(1)} s, peak RSS ${phase.peakRssMb} MB`);
  console.log(
    `  peak RSS ${result.peakRssMb} MB; results file ${mb(results)} (${(results / size).toFixed(0)} bytes a vector)`,
  );
  console.log(`  workspace on disk: ${mb(finalDisk)} at the end, ${mb(peakDisk)} at the sampled peak`);
  console.log(`  check: ${JSON.stringify(result.check)} ${result.notes.join("; ")}`);
  if (result.error) console.log(`  error: ${result.error}`);
} finally {
  clearInterval(sampler);
  await emulator.stop();
  await rm(workspace, { recursive: true, force: true });
  await rm(out, { force: true });
}
