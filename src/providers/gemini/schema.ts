import { ValidationError } from "../../errors.js";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Gemini's Schema types (`Type` of @google/genai). */
const TYPES: Record<string, string> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
  null: "NULL",
};

/** Keywords Gemini's Schema takes as they are, by the JSON Schema type they apply to ("*": any). */
const COPIED: Record<string, readonly string[]> = {
  "*": ["description", "title", "default"],
  STRING: ["format", "pattern"],
  NUMBER: ["minimum", "maximum", "format"],
  INTEGER: ["minimum", "maximum", "format"],
};
/** Keywords Gemini's Schema takes as int64, which proto JSON writes as strings. */
const INT64: Record<string, readonly string[]> = {
  STRING: ["minLength", "maxLength"],
  ARRAY: ["minItems", "maxItems"],
  OBJECT: ["minProperties", "maxProperties"],
};

class Converter {
  constructor(
    private readonly root: Json,
    private readonly label: string,
  ) {}

  private refuse(path: string, why: string): ValidationError {
    return new ValidationError(
      `${this.label}: Gemini's schema cannot express ${why} (at ${path || "/"}).`,
      "unsupported_feature",
    );
  }

  /** A local `$ref` replaced by what it points at, with the referring schema's other keywords over it. */
  private resolve(
    node: Json,
    path: string,
    refs: readonly string[],
  ): { node: Json; refs: readonly string[] } {
    let current = node;
    let seen = refs;
    while (typeof current.$ref === "string") {
      const ref = current.$ref;
      if (ref !== "#" && !ref.startsWith("#/")) throw this.refuse(path, `the remote reference ${ref}`);
      if (ref === "#" || seen.includes(ref)) throw this.refuse(path, `a recursive schema (${ref})`);
      let target: unknown = this.root;
      for (const part of ref.slice(2).split("/")) {
        const name = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
        target = isObject(target) ? target[name] : undefined;
      }
      if (!isObject(target)) throw this.refuse(path, `the reference ${ref}, which points at nothing`);
      const { $ref: _ref, ...siblings } = current;
      current = { ...target, ...siblings };
      seen = [...seen, ref];
    }
    return { node: current, refs: seen };
  }

  /** `allOf` folded into one schema: properties merged, required joined, other keywords from the first to give them. */
  private merge(node: Json, path: string, refs: readonly string[]): Json {
    if (!Array.isArray(node.allOf)) return node;
    const { allOf, ...rest } = node;
    const merged: Json = { ...rest };
    for (const [index, part] of allOf.entries()) {
      if (!isObject(part)) continue;
      const inner = this.merge(this.resolve(part, `${path}/allOf/${index}`, refs).node, path, refs);
      for (const [key, value] of Object.entries(inner)) {
        if (key === "properties" && isObject(value)) {
          merged.properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...value };
        } else if (key === "required" && Array.isArray(value)) {
          merged.required = [
            ...new Set([...(Array.isArray(merged.required) ? merged.required : []), ...value]),
          ];
        } else if (!(key in merged)) merged[key] = value;
      }
    }
    return merged;
  }

  convert(value: unknown, path: string, refs: readonly string[] = []): Json {
    if (!isObject(value)) throw this.refuse(path, "a schema that is not an object (true or false)");
    const resolved = this.resolve(value, path, refs);
    const node = this.merge(resolved.node, path, resolved.refs);
    const variants = node.anyOf ?? node.oneOf;
    if (Array.isArray(variants)) return this.union(node, variants, path, resolved.refs);
    const types = Array.isArray(node.type)
      ? node.type.map(String)
      : node.type === undefined
        ? []
        : [String(node.type)];
    const nullable = types.includes("null");
    const concrete = types.filter((type) => type !== "null");
    if (concrete.length > 1) {
      const anyOf = concrete.map((type) => this.single({ ...node, type }, path, resolved.refs));
      return { anyOf, ...(nullable ? { nullable: true } : {}) };
    }
    const out = this.single(
      { ...node, type: concrete[0] ?? (nullable ? "null" : undefined) },
      path,
      resolved.refs,
    );
    if (nullable && out.type !== "NULL") out.nullable = true;
    return out;
  }

  /** anyOf / oneOf: `{type: "null"}` variants become `nullable`; a single variant left is the schema itself. */
  private union(node: Json, variants: unknown[], path: string, refs: readonly string[]): Json {
    const isNull = (variant: unknown) => isObject(variant) && variant.type === "null" && !variant.properties;
    const kept = variants.filter((variant) => !isNull(variant));
    const nullable = kept.length < variants.length;
    const { anyOf: _anyOf, oneOf: _oneOf, ...siblings } = node;
    if (kept.length === 1) {
      const out = this.convert({ ...siblings, ...(kept[0] as Json) }, path, refs);
      return nullable ? { ...out, nullable: true } : out;
    }
    const out: Json = {
      anyOf: kept.map((variant, index) => this.convert(variant, `${path}/anyOf/${index}`, refs)),
    };
    if (typeof siblings.description === "string") out.description = siblings.description;
    if (nullable) out.nullable = true;
    return out;
  }

  private single(node: Json, path: string, refs: readonly string[]): Json {
    let type = typeof node.type === "string" ? TYPES[node.type] : undefined;
    if (typeof node.type === "string" && !type) throw this.refuse(path, `the type "${node.type}"`);
    const strings = Array.isArray(node.enum) && node.enum.every((entry) => typeof entry === "string");
    if (!type) {
      if (isObject(node.properties)) type = "OBJECT";
      else if (node.items !== undefined) type = "ARRAY";
      else if (strings || typeof node.const === "string") type = "STRING";
      else throw this.refuse(path, "a schema without a type");
    }
    const out: Json = { type };
    for (const key of [...(COPIED["*"] ?? []), ...(COPIED[type] ?? [])]) {
      if (node[key] !== undefined) out[key] = node[key];
    }
    for (const key of INT64[type] ?? []) {
      if (typeof node[key] === "number") out[key] = String(node[key]);
    }
    if (type === "STRING" && (strings || typeof node.const === "string")) {
      // Gemini's enums are lists of strings, marked with format "enum".
      out.enum = strings ? node.enum : [node.const];
      out.format = "enum";
    }
    if (type === "ARRAY") {
      if (node.items === undefined) throw this.refuse(path, "an array without items");
      out.items = this.convert(node.items, `${path}/items`, refs);
    }
    if (type === "OBJECT") {
      const properties = isObject(node.properties) ? node.properties : {};
      const names = Object.keys(properties);
      if (names.length === 0)
        throw this.refuse(path, "an object without properties (Gemini needs at least one)");
      out.properties = Object.fromEntries(
        names.map((name) => [name, this.convert(properties[name], `${path}/properties/${name}`, refs)]),
      );
      // Gemini orders the answer's keys by propertyOrdering; the schema's own order is what people expect.
      out.propertyOrdering = names;
      if (Array.isArray(node.required)) {
        const required = node.required.filter((name) => typeof name === "string" && names.includes(name));
        if (required.length > 0) out.required = required;
      }
    }
    return out;
  }
}

/**
 * A JSON Schema as Gemini's own Schema object (what `responseSchema` and function `parameters` take): types in
 * upper case, `["x", "null"]` and null variants as `nullable`, string enums with format "enum", int64 bounds as
 * strings, `propertyOrdering` in the schema's key order, local `$ref`s inlined and `allOf` merged. Keywords
 * Gemini's Schema has no field for (additionalProperties, exclusive bounds, uniqueItems, not, …) are dropped:
 * Relay checks answers against the schema as given. What it cannot express at all (recursion, objects without
 * properties, arrays without items) is refused before sending.
 */
export function toGeminiSchema(schema: Json, label: string): Json {
  return new Converter(schema, label).convert(schema, "");
}
