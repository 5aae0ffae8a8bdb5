#!/usr/bin/env node
/** `relay dashboard` on its own (`node dist/dashboard/cli-entry.js [options]`), with the command's own options. */
import { Command, CommanderError } from "commander";
import { registerDashboardCommand } from "../cli/commands/dashboard.js";
import { RelayError, ValidationError } from "../errors.js";

const program = new Command("relay").exitOverride();
registerDashboardCommand(program).exitOverride();
program.parseAsync(["dashboard", ...process.argv.slice(2)], { from: "user" }).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 64;
    return;
  }
  if (error instanceof RelayError) {
    console.error(`relay: ${error.message} (${error.code})`);
    process.exitCode = error instanceof ValidationError ? 64 : 1;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
