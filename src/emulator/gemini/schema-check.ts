import { fieldsOf, RequestProblem } from "./fields.js";

type Json = Record<string, unknown>;

/** The fields of Gemini's Schema message (Schema of @google/genai 2.32); anything else is an unknown field. */
const SCHEMA_FIELDS = [
  "anyOf",
  "default",
  "description",
  "enum",
  "example",
  "format",
  "items",
  "maxItems",
  "maxLength",
  "maxProperties",
  "maximum",
  "minItems",
  "minLength",
  "minProperties",
  "minimum",
  "nullable",
  "pattern",
  "properties",
  "propertyOrdering",
  "required",
  "title",
  "type",
] as const;
const TYPES = new Set([
  "TYPE_UNSPECIFIED",
  "STRING",
  "NUMBER",
  "INTEGER",
  "BOOLEAN",
  "ARRAY",
  "OBJECT",
  "NULL",
]);
const INT64 = ["maxItems", "maxLength", "maxProperties", "minItems", "minLength", "minProperties"] as const;

/**
 * Checks a Schema as the API parses it (proto JSON: enum names in upper case, int64 as strings or numbers, no field
 * it does not know, so a JSON Schema sent as it is fails on `additionalProperties` or `$ref`) and as it then
 * validates it (an OBJECT needs properties, an ARRAY items). Throws RequestProblem with the API's wording.
 */
export function checkSchema(value: unknown, where: string): Json {
  const schema = fieldsOf(value, SCHEMA_FIELDS, where);
  const type = schema.type;
  if (type !== undefined && !TYPES.has(String(type))) {
    throw new RequestProblem(
      `Invalid value at '${where}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(type)}`,
    );
  }
  for (const key of INT64) {
    const bound = schema[key];
    if (bound !== undefined && !/^\d+$/.test(String(bound))) {
      throw new RequestProblem(`Invalid value at '${where}.${key}' (TYPE_INT64), ${JSON.stringify(bound)}`);
    }
  }
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || !schema.enum.every((entry) => typeof entry === "string")) {
      throw new RequestProblem(
        `Invalid value at '${where}.enum' (TYPE_STRING): enum values must be strings.`,
      );
    }
    if (type !== "STRING") {
      // UNVERIFIED wording.
      throw new RequestProblem(`* GenerateContentRequest.${where}.enum: only allowed for STRING type`);
    }
  }
  const properties = schema.properties;
  if (type === "OBJECT") {
    if (properties === null || typeof properties !== "object" || Object.keys(properties).length === 0) {
      throw new RequestProblem(
        `* GenerateContentRequest.${where}.properties: should be non-empty for OBJECT type`,
      );
    }
  }
  if (properties !== undefined) {
    if (properties === null || typeof properties !== "object" || Array.isArray(properties)) {
      throw new RequestProblem(`Invalid value at '${where}.properties': expected an object.`);
    }
    for (const [name, inner] of Object.entries(properties as Json))
      checkSchema(inner, `${where}.properties[${name}]`);
    const names = new Set(Object.keys(properties as Json));
    for (const list of ["required", "propertyOrdering"] as const) {
      const entries = schema[list];
      if (entries === undefined) continue;
      if (!Array.isArray(entries))
        throw new RequestProblem(`Invalid value at '${where}.${list}': expected a list.`);
      const stray = entries.find((name) => !names.has(String(name)));
      if (stray !== undefined) {
        // UNVERIFIED wording.
        throw new RequestProblem(
          `* GenerateContentRequest.${where}.${list}[${entries.indexOf(stray)}]: property is not defined`,
        );
      }
    }
  }
  if (type === "ARRAY" && schema.items === undefined) {
    throw new RequestProblem(`* GenerateContentRequest.${where}.items: missing field.`);
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${where}.items`);
  if (schema.anyOf !== undefined) {
    if (!Array.isArray(schema.anyOf))
      throw new RequestProblem(`Invalid value at '${where}.any_of': expected a list.`);
    for (const [index, inner] of schema.anyOf.entries()) checkSchema(inner, `${where}.any_of[${index}]`);
  }
  return schema;
}

/** A Gemini Schema as a JSON Schema, for the shared generator of schema-shaped values (keys in propertyOrdering). */
export function toJsonSchema(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  const schema = value as Json;
  const out: Json = {};
  if (typeof schema.type === "string" && schema.type !== "TYPE_UNSPECIFIED")
    out.type = schema.type.toLowerCase();
  if (Array.isArray(schema.enum)) out.enum = schema.enum;
  for (const key of ["minimum", "maximum", "format", "pattern"]) {
    if (schema[key] !== undefined && !(key === "format" && schema[key] === "enum")) out[key] = schema[key];
  }
  for (const key of INT64) if (schema[key] !== undefined) out[key] = Number(schema[key]);
  if (schema.items !== undefined) out.items = toJsonSchema(schema.items);
  if (Array.isArray(schema.anyOf)) out.anyOf = schema.anyOf.map(toJsonSchema);
  const properties = schema.properties as Json | undefined;
  if (properties && typeof properties === "object") {
    const order = Array.isArray(schema.propertyOrdering) ? schema.propertyOrdering.map(String) : [];
    const names = [...order, ...Object.keys(properties).filter((name) => !order.includes(name))];
    out.properties = Object.fromEntries(names.map((name) => [name, toJsonSchema(properties[name])]));
  }
  if (Array.isArray(schema.required)) out.required = schema.required;
  return out;
}
