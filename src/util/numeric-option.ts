import { ValidationError } from "../errors.js";

/** The longest delay a Node timer honours; a longer one fires at once, which would turn a wait into a tight loop. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface NumberRule {
  min: number;
  max?: number;
  integer?: boolean;
  /** How the value is counted, for the message ("ms", "seconds", "requests"). */
  unit?: string;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? "an integer" : "a number";
  const unit = rule.unit ? ` ${rule.unit}` : "";
  return rule.max === undefined
    ? `${kind} of at least ${rule.min}${unit}`
    : `${kind} from ${rule.min} to ${rule.max}${unit}`;
}

/** Whether a value satisfies a rule: a finite number (an integer if asked) within its bounds. */
export function meetsRule(value: unknown, rule: NumberRule): value is number {
  return (
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    value >= rule.min &&
    (rule.max === undefined || value <= rule.max)
  );
}

/** The value when it satisfies the rule; otherwise a ValidationError naming the option and what it accepts. */
export function checkNumber(name: string, value: unknown, rule: NumberRule): number {
  if (meetsRule(value, rule)) return value;
  throw new ValidationError(
    `${name} must be ${describeRule(rule)}, not ${describeValue(value)}.`,
    "invalid_option",
  );
}

/** Like checkNumber, for an option that may be left out. */
export function checkOptionalNumber(name: string, value: unknown, rule: NumberRule): number | undefined {
  return value === undefined ? undefined : checkNumber(name, value, rule);
}

/**
 * A number typed on a command line or in an environment variable: only plain decimal notation is read (so "",
 * "abc", "0x10" and "1e300" are refused rather than read as 0, NaN, 16 or Infinity-like values).
 */
export function parseNumberText(name: string, text: string, rule: NumberRule): number {
  const trimmed = text.trim();
  const value = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (meetsRule(value, rule)) return value;
  throw new ValidationError(
    `${name} must be ${describeRule(rule)}, not ${JSON.stringify(text)}.`,
    "invalid_option",
  );
}

function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  return value === null ? "null" : typeof value;
}
