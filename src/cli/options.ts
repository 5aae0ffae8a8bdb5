import { Argument, InvalidArgumentError, Option } from "commander";
import { RelayError } from "../errors.js";
import { instantOf } from "../jobs/listing.js";
import { PROVIDER_NAMES } from "../providers/registry.js";
import { FINISHED_STATUSES, type JobStatus } from "../types.js";
import { assertValidJobId } from "../workspace/job-id.js";

/** Options and arguments used by more than one command, each declared once with its help and its validation. */

interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
  unit?: string;
}

/**
 * A parser for a numeric option: a finite number in [min, max] (a whole number if `integer`), else a usage error
 * saying what is allowed. The bounds keep a poll loop from spinning (0, negatives) or a timer from overflowing
 * (1e300 would fire at once).
 */
export function numberIn(rule: NumberRule): (value: string) => number {
  const what = `${rule.integer ? "a whole number" : "a number"}${rule.unit ? ` of ${rule.unit}` : ""} from ${rule.min} to ${rule.max}`;
  return (value) => {
    const number = value.trim() === "" ? Number.NaN : Number(value);
    if (!Number.isFinite(number) || (rule.integer && !Number.isInteger(number))) {
      throw new InvalidArgumentError(`It must be ${what}.`);
    }
    if (number < rule.min || number > rule.max) throw new InvalidArgumentError(`It must be ${what}.`);
    return number;
  };
}

/** A job ID as typed on the command line: a valid job ID, and not one that reads as an option. */
export function parseJobId(value: string): string {
  if (value.startsWith("-")) {
    throw new InvalidArgumentError(
      `"${value}" looks like an option, not a job ID; job IDs given to relay must not start with "-".`,
    );
  }
  try {
    assertValidJobId(value);
  } catch (error) {
    if (error instanceof RelayError) throw new InvalidArgumentError(error.message);
    throw error;
  }
  return value;
}

/** A comma-separated list, each item one of `allowed`. */
export function listOf<T extends string>(allowed: readonly T[], what: string): (value: string) => T[] {
  return (value) => {
    const items = value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    const wrong = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (items.length === 0 || wrong.length > 0) {
      throw new InvalidArgumentError(`Give one or more ${what}, separated by commas: ${allowed.join(", ")}.`);
    }
    return [...new Set(items)] as T[];
  };
}

function parseDate(value: string): string {
  try {
    instantOf(value, "The date");
  } catch (error) {
    if (error instanceof RelayError) throw new InvalidArgumentError(error.message);
    throw error;
  }
  return value;
}

export const JOB_STATUSES: readonly JobStatus[] = [
  "pending",
  "in_progress",
  "cancelling",
  ...FINISHED_STATUSES,
];

export const jobArgument = () => new Argument("<job>", "the job ID").argParser(parseJobId);

export const jsonOption = (what: string) => new Option("--json", `print JSON: ${what}`);

export const providerOption = (description = "the provider") =>
  new Option("-p, --provider <name>", description).choices(PROVIDER_NAMES);

export const jobIdOption = (description: string) =>
  new Option("--job <id>", description).argParser(parseJobId);

/** How often to check and how long to wait, for watch, submit --wait and retry --wait. */
export const watchOptions = () => [
  new Option("--interval <seconds>", "seconds between status checks while the job moves (1 to 86400)")
    .argParser(numberIn({ min: 1, max: 86_400, unit: "seconds" }))
    .default(30),
  new Option("--timeout <seconds>", "give up waiting after this long (exit 3); the job goes on").argParser(
    numberIn({ min: 1, max: 30 * 86_400, unit: "seconds" }),
  ),
];

export const dateOption = (flags: string, description: string) =>
  new Option(flags, `${description} (ISO 8601: 2026-12-01 or 2026-12-01T12:00:00Z)`).argParser(parseDate);

export const jobStatusOption = () =>
  new Option(
    "--status <statuses>",
    `only jobs in these statuses (comma-separated: ${JOB_STATUSES.join(", ")})`,
  ).argParser(listOf(JOB_STATUSES, "job statuses"));
