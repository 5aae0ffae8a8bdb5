import type { RequestRejection } from "../engine.js";

/** A part of a request body the provider would refuse, named in a way each provider's error shape can use. */
export interface ShapeProblem {
  /** Where, from the body's root (e.g. ["response_format", "json_schema", "name"]). */
  path: (string | number)[];
  kind: "missing" | "invalid_type" | "invalid_value" | "unknown";
  message: string;
}

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Collects problems while a body is walked. */
export class Problems {
  readonly list: ShapeProblem[] = [];

  add(path: (string | number)[], kind: ShapeProblem["kind"], message: string): void {
    this.list.push({ path, kind, message });
  }

  /** Refuses any key of `value` not in `allowed`. */
  keys(value: Json, allowed: readonly string[], path: (string | number)[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        this.add([...path, key], "unknown", `Unknown parameter: '${dotted([...path, key])}'.`);
    }
  }

  /** A value that must be an object; false (with a problem) when it is not. */
  object(value: unknown, path: (string | number)[], required = true): value is Json {
    return this.typed(isObject(value), value, path, required, "an object");
  }

  string(value: unknown, path: (string | number)[], required = true): value is string {
    return this.typed(typeof value === "string", value, path, required, "a string");
  }

  /** Whether `value` has the expected type; a problem when it has not (unless it is absent and optional). */
  private typed(
    ok: boolean,
    value: unknown,
    path: (string | number)[],
    required: boolean,
    expected: string,
  ): boolean {
    if (ok) return true;
    if (value === undefined && !required) return false;
    this.add(
      path,
      value === undefined ? "missing" : "invalid_type",
      value === undefined
        ? `Missing required parameter: '${dotted(path)}'.`
        : `Invalid type for '${dotted(path)}': expected ${expected}, but got ${typeName(value)} instead.`,
    );
    return false;
  }
}

/** `a.b[0].c`, as OpenAI names parameters in its errors. */
export function dotted(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    "",
  );
}

export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const OPENAI_CODES: Record<ShapeProblem["kind"], string> = {
  missing: "missing_required_parameter",
  invalid_type: "invalid_type",
  invalid_value: "invalid_value",
  unknown: "unknown_parameter",
};

/** The first problem as OpenAI's API reports a bad request: `{message, code, param}`. */
export function openAIRejection(problems: readonly ShapeProblem[]): RequestRejection | null {
  const first = problems[0];
  if (!first) return null;
  return { message: first.message, code: OPENAI_CODES[first.kind], param: dotted(first.path) };
}
