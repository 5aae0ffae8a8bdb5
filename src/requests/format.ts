import { ValidationError } from "../errors.js";
import type { JsonSchemaFormat, ZodSchemaLike } from "../types.js";

/** A response format with its schema as plain JSON Schema: what is encoded, stored and checked. */
export interface ResolvedFormat {
  name: string;
  schema: Record<string, unknown>;
  strict: boolean;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const DEFAULT_NAME = "response";

function isZod(value: unknown): value is ZodSchemaLike {
  return (
    value !== null &&
    typeof value === "object" &&
    "_zod" in value &&
    typeof (value as { toJSONSchema?: unknown }).toJSONSchema === "function"
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The request's responseFormat as a name and a JSON Schema: a zod 4 schema (given alone or as `schema`) is
 * converted with its own toJSONSchema(). Throws a ValidationError naming the request for anything else.
 */
export function resolveResponseFormat(
  format: JsonSchemaFormat | ZodSchemaLike,
  label: string,
): ResolvedFormat {
  // Jobs usually share one format object among all their requests: it is converted and checked once.
  const known = resolved.get(format);
  if (known) return known;
  const result = resolve(format, label);
  resolved.set(format, result);
  return result;
}

const resolved = new WeakMap<object, ResolvedFormat>();

function resolve(format: JsonSchemaFormat | ZodSchemaLike, label: string): ResolvedFormat {
  if (isZod(format)) return { name: DEFAULT_NAME, schema: format.toJSONSchema(), strict: true };
  if (!isPlainObject(format) || format.type !== "json_schema") {
    throw new ValidationError(
      `${label}: responseFormat must be { type: "json_schema", name, schema } or a zod 4 schema.`,
    );
  }
  if (typeof format.name !== "string" || !NAME.test(format.name)) {
    throw new ValidationError(
      `${label}: responseFormat.name must be 1 to 64 letters, digits, "_" or "-" (providers require such a name).`,
    );
  }
  const schema = isZod(format.schema) ? format.schema.toJSONSchema() : format.schema;
  if (!isPlainObject(schema))
    throw new ValidationError(`${label}: responseFormat.schema must be a JSON Schema object.`);
  if (format.strict !== undefined && typeof format.strict !== "boolean") {
    throw new ValidationError(`${label}: responseFormat.strict must be true or false.`);
  }
  return { name: format.name, schema, strict: format.strict ?? true };
}
