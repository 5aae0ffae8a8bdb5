#!/usr/bin/env node
import { reportError } from "./errors.js";
import { EXIT } from "./exit-codes.js";
import { Terminal } from "./output/terminal.js";
import { createProgram } from "./program.js";

const terminal = new Terminal(process.stdout, process.stderr, process.env);
// A reader that stops early (relay results JOB | head) is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? EXIT.ok);
  throw error;
});

let exitCode: number = EXIT.ok;
const program = createProgram(terminal, process.env, (code) => {
  exitCode = code;
});
try {
  if (process.argv.length <= 2) {
    program.outputHelp({ error: true });
    exitCode = EXIT.usage;
  } else await program.parseAsync(process.argv);
} catch (error) {
  exitCode = reportError(error, terminal, process.env);
}
process.exitCode = exitCode;
