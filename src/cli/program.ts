import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { providerEntries } from "../providers/registry.js";
import { COMMANDS } from "./commands/index.js";
import { CliContext, DEFAULT_DIRECTORY, type GlobalOptions } from "./context.js";
import { buildCommand } from "./define.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";
import { numberIn } from "./options.js";
import { sanitize } from "./output/sanitize.js";
import type { Terminal } from "./output/terminal.js";

function version(): string {
  try {
    const packageJson = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(packageJson) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** The environment variables Relay reads, the providers' from their entries. */
function environmentHelp(): string {
  const rows: [string, string][] = [
    ["RELAY_DIRECTORY", `the workspace directory, when -d is not given (default ./${DEFAULT_DIRECTORY})`],
    ["RELAY_PROVIDER", "the provider for relay submit, when --provider is not given"],
    ["RELAY_REQUEST_TIMEOUT_MS", "per-request timeout in milliseconds, when --request-timeout is not given"],
    ["NO_COLOR", "set to anything: no colour, even on a terminal"],
    ["RELAY_DEBUG", "set to anything: an internal error prints its stack"],
  ];
  for (const entry of providerEntries()) {
    const keys = [entry.apiKeyEnv, ...(entry.apiKeyEnvAliases ?? [])].join(" or ");
    rows.push([
      `${keys}, ${entry.baseURLEnv}`,
      `${entry.displayName}: key, base URL (default ${entry.defaultBaseURL})`,
    ]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  return ["Environment:", ...rows.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`)].join("\n");
}

/**
 * The `relay` program: global options, every command of commands/index.ts, help generated from their
 * declarations. `report` receives the exit code of the command that ran.
 */
export function createProgram(
  terminal: Terminal,
  env: NodeJS.ProcessEnv,
  report: (exitCode: number) => void,
): Command {
  const program = new Command("relay")
    .description(
      "Run LLM prompts through the providers' batch APIs (about half price), keeping every job and its results in a " +
        `workspace directory. Providers: ${providerEntries()
          .map((entry) => entry.name)
          .join(", ")}.`,
    )
    .version(version(), "-V, --version", "print the version")
    .option(
      "-d, --directory <dir>",
      `the workspace directory (default: $RELAY_DIRECTORY, else ./${DEFAULT_DIRECTORY})`,
    )
    .addOption(
      new Option(
        "--request-timeout <seconds>",
        "give up on one request to the provider after this long (0.1 to 86400; default 600, or RELAY_REQUEST_TIMEOUT_MS)",
      ).argParser(numberIn({ min: 0.1, max: 86_400, unit: "seconds" })),
    )
    .helpOption("-h, --help", "show help")
    .helpCommand(false)
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.stdout.write(text),
      writeErr: (text) => terminal.stderr.write(text),
      outputError: (text, write) =>
        write(
          `${terminal.messageStyle.red("relay:")} ${sanitize(text.replace(/^error: /, ""), { multiline: true })}Run "relay --help" for usage.\n`,
        ),
    });
  program.addHelpText(
    "after",
    `\nRun "relay <command> --help" for a command's options and examples.\n\n${environmentHelp()}\n\n${EXIT_CODES_HELP}`,
  );
  for (const definition of COMMANDS) {
    const command = buildCommand(
      definition,
      (self) => new CliContext(terminal, env, self.optsWithGlobals() as GlobalOptions),
      report,
    );
    command.copyInheritedSettings(program);
    program.addCommand(command);
  }
  return program;
}
