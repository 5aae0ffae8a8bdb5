import { type Argument, Command, type Option } from "commander";
import type { CliContext } from "./context.js";

/**
 * One `relay` command, declared once: its name, arguments, options, help, examples and what `--json` prints, and
 * what it does. The program builds the commander command (and so the help) from this.
 */
export interface CommandDefinition {
  name: string;
  aliases?: string[];
  /** One line, shown in `relay --help`. */
  summary: string;
  /** More, shown in `relay <command> --help`. */
  description?: string;
  arguments?: Argument[];
  options?: Option[];
  /** Lines of `relay …` usage, each optionally followed by `# what it does`. */
  examples: string[];
  /** What --json prints, for the help. */
  jsonOutput?: string;
  /** Runs the command; resolves to its exit code. */
  run(context: CliContext, args: unknown[], options: Record<string, unknown>): Promise<number>;
}

/** Words wrapped to lines of at most `width` characters, each after `indent`. */
export function wrap(text: string, width: number, indent = ""): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

function examplesHelp(definition: CommandDefinition): string {
  const lines = ["", "Examples:"];
  for (const example of definition.examples) {
    const [usage = "", comment] = example.split(" # ");
    if (comment) lines.push(`  # ${comment}`);
    lines.push(`  ${usage}`);
  }
  if (definition.jsonOutput) lines.push("", ...wrap(`With --json: ${definition.jsonOutput}`, 100));
  return lines.join("\n");
}

/** The commander command of a definition; `run` gets the context and reports the exit code. */
export function buildCommand(
  definition: CommandDefinition,
  makeContext: (command: Command) => CliContext,
  report: (exitCode: number) => void,
): Command {
  const command = new Command(definition.name).summary(definition.summary);
  command.description(
    definition.description ? `${definition.summary}\n\n${definition.description}` : definition.summary,
  );
  for (const alias of definition.aliases ?? []) command.alias(alias);
  for (const argument of definition.arguments ?? []) command.addArgument(argument);
  for (const option of definition.options ?? []) command.addOption(option);
  command.addHelpText("after", examplesHelp(definition));
  command.action(async (...params: unknown[]) => {
    // commander passes the arguments, then the options, then the command itself.
    const self = params.at(-1) as Command;
    const args = params.slice(0, definition.arguments?.length ?? 0);
    report(await definition.run(makeContext(self), args, self.opts()));
  });
  return command;
}
