import { sanitize } from "./sanitize.js";
import { type Style, styles, wantsColour } from "./style.js";

/**
 * Where the command's output goes: data on stdout (tables, results, JSON), messages on stderr (progress notes,
 * warnings, errors). Human-readable text is sanitised here or by its builder; JSON is written exactly.
 */
export class Terminal {
  /** Styles for stdout (identity when it is not a terminal or NO_COLOR is set). */
  readonly style: Style;
  /** Styles for stderr. */
  readonly messageStyle: Style;

  constructor(
    readonly stdout: NodeJS.WriteStream,
    readonly stderr: NodeJS.WriteStream,
    env: NodeJS.ProcessEnv,
  ) {
    this.style = styles(wantsColour(stdout, env));
    this.messageStyle = styles(wantsColour(stderr, env));
  }

  /** Whether stdout is a terminal (a live display is possible). */
  get interactive(): boolean {
    return this.stdout.isTTY === true;
  }

  /** Terminal width, or 80 when unknown. */
  get columns(): number {
    return this.stdout.columns > 0 ? this.stdout.columns : 80;
  }

  /** Writes to stdout, waiting while its buffer is full, so that a large output never piles up in memory. */
  write(chunk: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(chunk)) resolve();
      else this.stdout.once("drain", () => resolve());
    });
  }

  /** One line of data; the caller has made its text safe (see sanitize). */
  line(text = ""): Promise<void> {
    return this.write(`${text}\n`);
  }

  /** One JSON value on one line (JSON lines), exact. */
  json(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value)}\n`);
  }

  /** One JSON document, indented, exact. */
  jsonDocument(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A message for the person at the terminal, on stderr, sanitised. */
  message(text: string): void {
    this.stderr.write(`${sanitize(text, { multiline: true })}\n`);
  }

  warn(text: string): void {
    this.stderr.write(
      `${this.messageStyle.yellow("relay: warning:")} ${sanitize(text, { multiline: true })}\n`,
    );
  }

  error(text: string): void {
    this.stderr.write(`${this.messageStyle.red("relay:")} ${sanitize(text, { multiline: true })}\n`);
  }
}
