type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const isPrimitive = (value: unknown) => value === null || typeof value !== "object";

/** String formats structured outputs constrain (as @anthropic-ai/sdk's schema helper keeps them). */
const STRING_FORMATS = new Set([
  "date-time",
  "time",
  "date",
  "duration",
  "email",
  "hostname",
  "uri",
  "ipv4",
  "ipv6",
  "uuid",
]);

/** Keywords carried over as they are (their values are not schemas). */
const KEPT = new Set(["type", "description", "title", "required", "$ref"]);
/** Keywords that name the dialect or an identity and constrain nothing: dropped without a trace. */
const SILENT = new Set(["$schema", "$id", "$comment"]);

function subschemas(value: unknown): Schema[] | undefined {
  return Array.isArray(value) ? value.filter(isSchema).map(toOutputSchema) : undefined;
}

function definitions(value: unknown): Schema | undefined {
  if (!isSchema(value)) return undefined;
  return Object.fromEntries(
    Object.entries(value).map(([name, inner]) => [name, isSchema(inner) ? toOutputSchema(inner) : inner]),
  );
}

/**
 * A JSON Schema as Anthropic's structured outputs (`output_config.format`) take it: the keywords they constrain are
 * kept (types, properties, required, enum and const of plain values, anyOf (oneOf becomes anyOf), allOf, local
 * $ref and $defs, items, minItems of 0 or 1, the common string formats), every object gets
 * `additionalProperties: false` (which they require), and any other keyword is written into the description so that
 * the model still reads it. Answers still satisfy the schema as given, which Relay checks when the results arrive.
 */
export function toOutputSchema(schema: Schema): Schema {
  const out: Schema = {};
  const unconstrained: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (KEPT.has(key)) out[key] = value;
    else if (SILENT.has(key)) continue;
    else if (key === "properties" && isSchema(value)) out.properties = definitions(value);
    else if ((key === "$defs" || key === "definitions") && isSchema(value)) out[key] = definitions(value);
    else if ((key === "anyOf" || key === "oneOf") && Array.isArray(value)) out.anyOf = subschemas(value);
    else if (key === "allOf" && Array.isArray(value)) out.allOf = subschemas(value);
    else if (key === "items" && isSchema(value)) out.items = toOutputSchema(value);
    else if (key === "enum" && Array.isArray(value) && value.every(isPrimitive)) out.enum = value;
    else if (key === "const" && isPrimitive(value)) out.const = value;
    else if (key === "minItems" && (value === 0 || value === 1)) out.minItems = value;
    else if (key === "format" && typeof value === "string" && STRING_FORMATS.has(value)) out.format = value;
    else if (key === "additionalProperties") continue;
    else unconstrained.push(`${key}: ${JSON.stringify(value)}`);
  }
  const isObject = out.type === "object" || (Array.isArray(out.type) && out.type.includes("object"));
  if (isObject || out.properties !== undefined) out.additionalProperties = false;
  if (unconstrained.length > 0) {
    const note = `{${unconstrained.join(", ")}}`;
    out.description = typeof out.description === "string" ? `${out.description}\n\n${note}` : note;
  }
  return out;
}
