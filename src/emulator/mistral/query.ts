import { type DetailList, enumMessage } from "./errors.js";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Reads typed query parameters, collecting every problem before answering 422. */
export class Query {
  constructor(
    private readonly params: URLSearchParams,
    private readonly details: DetailList,
  ) {}

  integer(name: string, fallback: number, min: number): number {
    const raw = this.params.get(name);
    if (raw === null) return fallback;
    if (!/^-?\d+$/.test(raw.trim())) {
      this.details.add(
        "int_parsing",
        ["query", name],
        "Input should be a valid integer, unable to parse string as an integer",
        raw,
      );
      return fallback;
    }
    const value = Number(raw);
    if (value < min) {
      this.details.add(
        "greater_than_equal",
        ["query", name],
        `Input should be greater than or equal to ${min}`,
        raw,
      );
      return fallback;
    }
    return value;
  }

  boolean(name: string): boolean | null {
    const raw = this.params.get(name);
    if (raw === null) return null;
    const value = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on", "t", "y"].includes(value)) return true;
    if (["false", "0", "no", "off", "f", "n"].includes(value)) return false;
    this.details.add(
      "bool_parsing",
      ["query", name],
      "Input should be a valid boolean, unable to interpret input",
      raw,
    );
    return null;
  }

  /** Every value of a repeated parameter (`status=A&status=B`), each checked against `allowed` when given. */
  list(name: string, allowed?: readonly string[]): string[] {
    const values = this.params.getAll(name);
    values.forEach((value, index) => {
      if (allowed && !allowed.includes(value))
        this.details.add("enum", ["query", name, index], enumMessage(allowed), value);
    });
    return values;
  }

  choice(name: string, allowed: readonly string[], fallback: string): string {
    const raw = this.params.get(name);
    if (raw === null) return fallback;
    if (!allowed.includes(raw)) {
      this.details.add("enum", ["query", name], enumMessage(allowed), raw);
      return fallback;
    }
    return raw;
  }

  string(name: string): string | null {
    return this.params.get(name);
  }

  /** An ISO-8601 date-time, as unix ms. */
  dateTime(name: string): number | null {
    const raw = this.params.get(name);
    if (raw === null) return null;
    const at = Date.parse(raw);
    if (Number.isNaN(at)) {
      this.details.add(
        "datetime_from_date_parsing",
        ["query", name],
        "Input should be a valid datetime or date",
        raw,
      );
      return null;
    }
    return at;
  }

  /** A JSON object given as one parameter's value. */
  object(name: string): Json | null {
    const raw = this.params.get(name);
    if (raw === null) return null;
    try {
      const value = JSON.parse(raw) as unknown;
      if (isObject(value)) return value;
    } catch {
      // reported below
    }
    this.details.add("dict_type", ["query", name], "Input should be a valid dictionary", raw);
    return null;
  }
}
