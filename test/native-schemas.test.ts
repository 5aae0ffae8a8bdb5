import { describe, expect, it } from "vitest";
import { z } from "zod";
import { valueForSchema } from "../src/emulator/structured.js";
import { toOutputSchema } from "../src/providers/anthropic/output-schema.js";
import { toGeminiSchema } from "../src/providers/gemini/schema.js";
import { OutputChecker } from "../src/requests/output.js";

describe("JSON Schema as Gemini's Schema", () => {
  it("turns type lists and null variants into nullable, and several types into anyOf", () => {
    expect(toGeminiSchema({ type: ["integer", "null"], minimum: 3 }, "r")).toEqual({
      type: "INTEGER",
      minimum: 3,
      nullable: true,
    });
    expect(
      toGeminiSchema({ oneOf: [{ type: "null" }, { type: "boolean" }], description: "flag" }, "r"),
    ).toEqual({
      type: "BOOLEAN",
      description: "flag",
      nullable: true,
    });
    expect(toGeminiSchema({ type: ["string", "number", "null"] }, "r")).toEqual({
      anyOf: [{ type: "STRING" }, { type: "NUMBER" }],
      nullable: true,
    });
  });

  it("merges allOf, inlines $defs, keeps string enums and consts, drops what it cannot say", () => {
    const schema = {
      allOf: [
        { type: "object", properties: { a: { type: "string", const: "x" } }, required: ["a"] },
        { properties: { b: { $ref: "#/definitions/n" } }, required: ["b"] },
      ],
      definitions: { n: { type: "number", enum: [1, 2], multipleOf: 1 } },
      additionalProperties: false,
    };
    expect(toGeminiSchema(schema, "r")).toEqual({
      type: "OBJECT",
      properties: { a: { type: "STRING", enum: ["x"], format: "enum" }, b: { type: "NUMBER" } },
      propertyOrdering: ["a", "b"],
      required: ["a", "b"],
    });
  });

  it("converts zod's own export, and the emulator's answers to it satisfy the original schema", () => {
    const schema = z.object({
      name: z.string().min(1),
      scores: z.array(z.number().min(0).max(1)).max(3),
      note: z.string().nullable(),
      kind: z.enum(["a", "b"]),
    });
    const json = schema.toJSONSchema() as Record<string, unknown>;
    const gemini = toGeminiSchema(json, "r");
    expect(gemini).toMatchObject({
      type: "OBJECT",
      propertyOrdering: ["name", "scores", "note", "kind"],
      properties: {
        name: { type: "STRING", minLength: "1" },
        scores: { type: "ARRAY", maxItems: "3", items: { type: "NUMBER", minimum: 0, maximum: 1 } },
        note: { type: "STRING", nullable: true },
      },
    });
    const value = valueForSchema(json, 11);
    expect(schema.safeParse(value).success).toBe(true);
  });
});

describe("JSON Schema as Anthropic's structured-output schema", () => {
  it("closes every object, keeps what constrained decoding takes and writes the rest into descriptions", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" },
        code: { type: "string", pattern: "^[A-Z]{3}$", description: "An airport." },
        either: { oneOf: [{ type: "string" }, { $ref: "#/$defs/box" }] },
        list: { type: "array", items: { type: "integer", minimum: 1 }, minItems: 2 },
      },
      required: ["id"],
      additionalProperties: true,
      $defs: { box: { type: "object", properties: { w: { type: "number" } } } },
    };
    expect(toOutputSchema(schema)).toEqual({
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" },
        code: { type: "string", description: 'An airport.\n\n{pattern: "^[A-Z]{3}$"}' },
        either: { anyOf: [{ type: "string" }, { $ref: "#/$defs/box" }] },
        list: {
          type: "array",
          items: { type: "integer", description: "{minimum: 1}" },
          description: "{minItems: 2}",
        },
      },
      required: ["id"],
      additionalProperties: false,
      $defs: { box: { type: "object", properties: { w: { type: "number" } }, additionalProperties: false } },
    });
  });

  it("leaves the check of answers to the schema as given: a constraint moved into a description still counts", () => {
    const schema = { type: "object", properties: { n: { type: "integer", minimum: 5 } }, required: ["n"] };
    const format = { name: "n", schema, strict: true };
    const checker = new OutputChecker();
    const result = checker.check({ id: "r", status: "succeeded", text: '{"n": 2}', raw: null }, format);
    expect(result).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });
  });
});
