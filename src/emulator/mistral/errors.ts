import { HttpError } from "../http.js";

/** One entry of a pydantic validation error, as Mistral's API lists them (`{type, loc, msg, input}`). */
export interface ValidationDetail {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

/** Mistral's error envelope: `{"object": "error", "message", "type", "param", "code"}`. */
export function mistralErrorBody(status: number, code: string, message: unknown) {
  const type =
    status === 401
      ? "authentication_error"
      : status === 429
        ? "rate_limit_error"
        : status >= 500
          ? "internal_server_error"
          : "invalid_request_error";
  return { object: "error", message, type, param: null, code: code === "" ? null : code };
}

/** A 422: the request did not match the schema. The body lists every problem under `message.detail`. */
export class ValidationFailure extends HttpError {
  constructor(readonly detail: ValidationDetail[]) {
    super(422, "", detail.map((entry) => `${entry.loc.join(".")}: ${entry.msg}`).join("; "));
  }

  body() {
    return mistralErrorBody(422, "", { detail: this.detail });
  }
}

/** Collects validation problems and throws them together, as pydantic reports them. */
export class DetailList {
  readonly entries: ValidationDetail[] = [];

  add(type: string, loc: (string | number)[], msg: string, input?: unknown): void {
    this.entries.push({ type, loc, msg, ...(input === undefined ? {} : { input }) });
  }

  throwIfAny(): void {
    if (this.entries.length > 0) throw new ValidationFailure(this.entries);
  }
}

/** Pydantic's wording for a value outside an enum: "Input should be 'a', 'b' or 'c'". */
export function enumMessage(allowed: readonly string[]): string {
  const options = allowed.map((entry) => `'${entry}'`);
  return options.length === 1
    ? `Input should be ${options[0]}`
    : `Input should be ${options.slice(0, -1).join(", ")} or ${options.at(-1)}`;
}
