import type { ResolvedFormat } from "../../../requests/format.js";
import type { BatchRequest } from "../../../types.js";
import { unsupported } from "./chat.js";

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function isObjectSchema(schema: Schema): boolean {
  const type = schema.type;
  return type === "object" || (Array.isArray(type) && type.includes("object")) || isSchema(schema.properties);
}

/** Every subschema of a schema with its JSON Pointer: properties, items, combinators and definitions. */
function* subschemas(schema: Schema, at: string): Generator<[Schema, string]> {
  yield [schema, at];
  const children: [unknown, string][] = [];
  if (isSchema(schema.properties)) {
    for (const [name, inner] of Object.entries(schema.properties))
      children.push([inner, `${at}/properties/${name}`]);
  }
  if (isSchema(schema.items)) children.push([schema.items, `${at}/items`]);
  for (const key of ["anyOf", "allOf", "oneOf", "prefixItems", "items"] as const) {
    const list = schema[key];
    if (!Array.isArray(list)) continue;
    for (const [index, inner] of list.entries()) children.push([inner, `${at}/${key}/${index}`]);
  }
  for (const key of ["$defs", "definitions"] as const) {
    const defs = schema[key];
    if (isSchema(defs))
      for (const [name, inner] of Object.entries(defs)) children.push([inner, `${at}/${key}/${name}`]);
  }
  for (const [inner, where] of children) if (isSchema(inner)) yield* subschemas(inner, where);
}

/**
 * Why a schema cannot be used with strict structured outputs (OpenAI, Azure OpenAI, Groq's strict mode), or null:
 * the root must be an object, and every object must list all its properties in `required` and set
 * `additionalProperties: false`. These are the rules the providers refuse a request for; the rest of the subset
 * they support is left to them.
 */
export function strictSchemaProblem(schema: Schema): string | null {
  if (!isObjectSchema(schema)) return 'the root of the schema must be an object ({ type: "object", … })';
  for (const [inner, at] of subschemas(schema, "")) {
    if (!isObjectSchema(inner)) continue;
    const where = at || "/";
    if (inner.additionalProperties !== false) {
      return `every object needs additionalProperties: false (it is missing at ${where})`;
    }
    const required = new Set(Array.isArray(inner.required) ? inner.required : []);
    const missing = Object.keys(isSchema(inner.properties) ? inner.properties : {}).find(
      (name) => !required.has(name),
    );
    if (missing !== undefined) {
      return `every property must be required ("${missing}" is not, at ${where}); make an optional one nullable instead`;
    }
  }
  return null;
}

/**
 * Strict structured outputs refuse a schema outside their subset (every property required, no additional
 * properties): such a request is refused before sending rather than failing in the batch.
 */
export function strictOrRefuse(provider: string) {
  return (format: ResolvedFormat, request: BatchRequest): boolean => {
    if (!format.strict) return false;
    const problem = strictSchemaProblem(format.schema);
    if (problem) {
      throw unsupported(
        request,
        `${provider}'s strict structured output cannot take the schema "${format.name}": ${problem}. ` +
          "Fix the schema, or give responseFormat with strict: false (Relay still checks every answer against it).",
      );
    }
    return true;
  };
}
