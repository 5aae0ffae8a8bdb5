/**
 * Deterministic fake outputs for the request kinds beyond text: JSON that satisfies a JSON Schema, tool-call
 * arguments, and embedding vectors. The same request always gets the same answer, so tests can check them.
 * Markers in a request body change the answer: `[emulator:badjson]` makes structured output that does not parse,
 * `[emulator:offschema]` JSON that parses but misses what the schema requires, `[emulator:tool]` a tool call when
 * the request offers tools without forcing one.
 */

type Schema = Record<string, unknown>;

export type OutputMarker = "badjson" | "offschema" | "tool";

const MARKER = /\[emulator:(badjson|offschema|tool)\]/g;

/** The output markers found in a request's body text. */
export function outputMarkers(bodyText: string): Set<OutputMarker> {
  return new Set([...bodyText.matchAll(MARKER)].map((match) => match[1] as OutputMarker));
}

/** A 32-bit FNV-1a hash, for picking deterministic values. */
export function hashText(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Resolves a local `$ref` ("#/$defs/x", "#/definitions/x") against the root schema. */
function dereference(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split("/")) target = isSchema(target) ? target[part] : undefined;
  return isSchema(target)
    ? { ...target, ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== "$ref")) }
    : schema;
}

function typeOf(schema: Schema): string {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return String(type.find((entry) => entry !== "null") ?? "null");
  if (isSchema(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  return "string";
}

function stringFor(schema: Schema, seed: number, path: string): string {
  switch (schema.format) {
    case "date":
      return "2026-12-01";
    case "date-time":
      return "2026-12-01T12:00:00Z";
    case "email":
      return `user${seed % 1000}@example.com`;
    case "uri":
    case "url":
      return `https://example.com/${seed % 1000}`;
    case "uuid":
      return "00000000-0000-4000-8000-000000000000";
    default: {
      const min = typeof schema.minLength === "number" ? schema.minLength : 0;
      const max = typeof schema.maxLength === "number" ? schema.maxLength : 64;
      let text = `${path || "value"} ${seed.toString(36)}`;
      while (text.length < min) text += "x";
      return text.slice(0, Math.max(min, Math.min(max, text.length)));
    }
  }
}

function numberFor(schema: Schema, seed: number, integer: boolean): number {
  const low =
    typeof schema.minimum === "number"
      ? schema.minimum
      : typeof schema.exclusiveMinimum === "number"
        ? schema.exclusiveMinimum + 1
        : 0;
  const high =
    typeof schema.maximum === "number"
      ? schema.maximum
      : typeof schema.exclusiveMaximum === "number"
        ? schema.exclusiveMaximum - 1
        : low + 100;
  const span = Math.max(0, high - low);
  const value = low + (span === 0 ? 0 : (seed % 1000) / 1000) * span;
  return integer
    ? Math.ceil(value) <= high
      ? Math.ceil(value)
      : Math.floor(value)
    : Math.round(value * 100) / 100;
}

/** A value that satisfies the schema (the common keywords), chosen from the seed. */
export function valueForSchema(
  schema: unknown,
  seed: number,
  root: Schema = isSchema(schema) ? schema : {},
  path = "",
): unknown {
  if (!isSchema(schema)) return null;
  const resolved = dereference(schema, root);
  if ("const" in resolved) return resolved.const;
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0)
    return resolved.enum[seed % resolved.enum.length];
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const options = resolved[key];
    if (Array.isArray(options) && options.length > 0) {
      const first = options.find((option) => isSchema(option) && option.type !== "null") ?? options[0];
      return valueForSchema(key === "allOf" ? Object.assign({}, ...options) : first, seed, root, path);
    }
  }
  switch (typeOf(resolved)) {
    case "object": {
      const properties = isSchema(resolved.properties) ? resolved.properties : {};
      const value: Record<string, unknown> = {};
      for (const [name, inner] of Object.entries(properties)) {
        value[name] = valueForSchema(
          inner,
          hashText(`${seed}/${name}`),
          root,
          path ? `${path}.${name}` : name,
        );
      }
      return value;
    }
    case "array": {
      const min = typeof resolved.minItems === "number" ? resolved.minItems : 1;
      const max = typeof resolved.maxItems === "number" ? resolved.maxItems : Math.max(min, 2);
      const count = Math.min(max, Math.max(min, 2));
      return Array.from({ length: count }, (_, index) =>
        valueForSchema(resolved.items, hashText(`${seed}[${index}]`), root, `${path}[${index}]`),
      );
    }
    case "integer":
      return numberFor(resolved, seed, true);
    case "number":
      return numberFor(resolved, seed, false);
    case "boolean":
      return seed % 2 === 0;
    case "null":
      return null;
    default:
      return stringFor(resolved, seed, path);
  }
}

/**
 * The text of a structured answer to a request with this schema: JSON that satisfies it, or, when the request body
 * carries a marker, JSON that does not parse or that misses a required field.
 */
export function structuredAnswer(
  schema: unknown,
  seedText: string,
  markers: ReadonlySet<OutputMarker>,
): string {
  if (markers.has("badjson")) return '{"unfinished": ';
  const value = valueForSchema(schema, hashText(seedText));
  if (markers.has("offschema") && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const required =
      isSchema(schema) && Array.isArray(schema.required) ? schema.required : Object.keys(value);
    const missing = required[0];
    if (typeof missing === "string") delete (value as Record<string, unknown>)[missing];
    else return JSON.stringify({ unexpected: true });
    return JSON.stringify(value);
  }
  return JSON.stringify(value);
}

/** A deterministic unit vector for a text: the same text always gets the same vector. */
export function fakeVector(text: string, dimensions: number): number[] {
  let state = hashText(text) || 1;
  const values = new Array<number>(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index += 1) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const value = ((state >>> 0) / 0xffffffff) * 2 - 1;
    values[index] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  return values.map((value) => Math.round(value * scale * 1e8) / 1e8);
}

/** The vector length a model answers with by default (the emulator's table of the providers' embedding models). */
export function defaultDimensions(model: string): number {
  if (/text-embedding-3-large/.test(model)) return 3072;
  if (/text-embedding-3-small|text-embedding-ada-002/.test(model)) return 1536;
  if (/mistral-embed/.test(model)) return 1024;
  if (/gemini-embedding/.test(model)) return 3072;
  if (/text-embedding-004|embedding-001/.test(model)) return 768;
  return 256;
}
