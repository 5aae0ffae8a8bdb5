import { isObject, type Json } from "./problems.js";

/**
 * What strict structured outputs refuse in a schema, as OpenAI words it: the root must be an object, and every
 * object must set `additionalProperties: false` and list every property in `required`. `context` is the path of
 * the object, as in OpenAI's messages (`()` for the root, `('properties', 'address')` below it).
 */
export function strictSchemaProblems(schema: Json, name: string): string[] {
  const problems: string[] = [];
  const prefix = `Invalid schema for response_format '${name}': `;
  if (schema.type !== "object") {
    return [
      `${prefix}schema must be a JSON Schema of 'type: "object"', got 'type: "${String(schema.type)}"'.`,
    ];
  }
  const visit = (node: unknown, path: string[]) => {
    if (!isObject(node)) return;
    const context = `(${path.map((part) => `'${part}'`).join(", ")})`;
    const isObjectType = node.type === "object" || (Array.isArray(node.type) && node.type.includes("object"));
    if (isObjectType) {
      if (node.additionalProperties !== false) {
        problems.push(
          `${prefix}In context=${context}, 'additionalProperties' is required to be supplied and to be false.`,
        );
      }
      const properties = isObject(node.properties) ? Object.keys(node.properties) : [];
      const required = new Set(Array.isArray(node.required) ? node.required : []);
      const missing = properties.find((key) => !required.has(key));
      if (missing !== undefined) {
        problems.push(
          `${prefix}In context=${context}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`,
        );
      }
    }
    if (isObject(node.properties)) {
      for (const [key, inner] of Object.entries(node.properties)) visit(inner, [...path, "properties", key]);
    }
    if (isObject(node.items)) visit(node.items, [...path, "items"]);
    for (const key of ["anyOf", "allOf", "oneOf"]) {
      const list = node[key];
      if (!Array.isArray(list)) continue;
      for (const [index, inner] of list.entries()) visit(inner, [...path, key, String(index)]);
    }
    for (const key of ["$defs", "definitions"]) {
      const defs = node[key];
      if (isObject(defs))
        for (const [defName, inner] of Object.entries(defs)) visit(inner, [...path, key, defName]);
    }
  };
  visit(schema, []);
  return problems;
}
