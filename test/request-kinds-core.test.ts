import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fakeVector, outputMarkers, structuredAnswer, valueForSchema } from "../src/emulator/structured.js";
import { featuresOf } from "../src/requests/features.js";
import { resolveResponseFormat } from "../src/requests/format.js";
import { OutputChecker } from "../src/requests/output.js";
import { validateRequestOptions } from "../src/requests/validate.js";
import type { BatchResult } from "../src/types.js";

const person = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 2 },
    age: { type: "integer", minimum: 0, maximum: 120 },
    tags: { type: "array", items: { type: "string" }, minItems: 1 },
    kind: { enum: ["a", "b"] },
    email: { type: "string", format: "email" },
    address: { $ref: "#/$defs/address" },
  },
  required: ["name", "age", "tags", "kind"],
  additionalProperties: false,
  $defs: { address: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};
const format = { name: "person", schema: person, strict: true };

const succeeded = (text: string, extra: Partial<BatchResult> = {}): BatchResult => ({
  id: "r",
  status: "succeeded",
  text,
  raw: null,
  ...extra,
});

describe("structured output", () => {
  const checker = new OutputChecker();

  it("accepts JSON that matches the schema and sets json", () => {
    const answer = structuredAnswer(person, "seed", new Set());
    const checked = checker.check(succeeded(answer), format);
    expect(checked.status).toBe("succeeded");
    expect(checked.json).toEqual(JSON.parse(answer));
    // Deterministic: the same seed, the same answer.
    expect(structuredAnswer(person, "seed", new Set())).toBe(answer);
    expect(structuredAnswer(person, "other", new Set())).not.toBe(answer);
  });

  it("marks output that does not parse, or does not match, as invalid_output and keeps the text", () => {
    const bad = checker.check(
      succeeded(structuredAnswer(person, "s", outputMarkers("x [emulator:badjson]"))),
      format,
    );
    expect(bad).toMatchObject({ status: "invalid_output", error: { code: "invalid_json" } });
    expect(bad.text).toBe('{"unfinished": ');
    expect(bad.json).toBeUndefined();
    const off = checker.check(
      succeeded(structuredAnswer(person, "s", outputMarkers("[emulator:offschema]"))),
      format,
    );
    expect(off).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });
    expect(off.error?.message).toContain("name");
    const wrongType = checker.check(
      succeeded(JSON.stringify({ name: "Al", age: "old", tags: ["x"], kind: "a" })),
      format,
    );
    expect(wrongType).toMatchObject({ status: "invalid_output", error: { code: "schema_mismatch" } });
    expect(wrongType.error?.message).toContain("/age");
  });

  it("reads the answer from a call of the tool named after the schema (a forced tool)", () => {
    const value = valueForSchema(person, 7);
    const viaTool = checker.check(
      succeeded("", { text: undefined, toolCalls: [{ id: "t1", name: "person", arguments: value }] }),
      format,
    );
    expect(viaTool.status).toBe("succeeded");
    expect(viaTool.json).toEqual(value);
  });

  it("leaves results that did not succeed alone", () => {
    const failed: BatchResult = { id: "r", status: "failed", error: { message: "x" }, raw: null };
    expect(checker.check(failed, format)).toBe(failed);
  });

  it("converts a zod 4 schema with its own JSON Schema export, alone or as the schema of a format", () => {
    const schema = z.object({ label: z.enum(["spam", "ham"]), score: z.number().min(0).max(1) });
    const alone = resolveResponseFormat(schema, "r");
    expect(alone.name).toBe("response");
    expect(alone.schema).toMatchObject({ type: "object", required: ["label", "score"] });
    const named = resolveResponseFormat({ type: "json_schema", name: "label", schema }, "r");
    expect(named).toMatchObject({ name: "label", strict: true });
    const answer = structuredAnswer(named.schema, "x", new Set());
    expect(schema.safeParse(JSON.parse(answer)).success).toBe(true);
    expect(checker.check(succeeded(answer), named).status).toBe("succeeded");
  });

  it("refuses malformed formats, tools and options with a message naming the field", () => {
    const request = { id: "r", model: "m", prompt: "p" };
    const bad = (extra: Record<string, unknown>) => () =>
      validateRequestOptions({ ...request, ...extra }, "request r");
    expect(bad({ responseFormat: { type: "json_object" } })).toThrow(/responseFormat/);
    expect(bad({ responseFormat: { type: "json_schema", name: "has space", schema: {} } })).toThrow(/name/);
    expect(bad({ tools: [{ name: "f", parameters: "x" }] })).toThrow(/parameters/);
    expect(bad({ tools: [{ name: "f", parameters: {} }], toolChoice: { name: "g" } })).toThrow(
      /not among the tools/,
    );
    expect(bad({ toolChoice: "required" })).toThrow(/needs tools/);
    expect(bad({ temperature: 3 })).toThrow(/temperature/);
    expect(bad({ topP: 0 })).toThrow(/topP/);
    expect(bad({ seed: 1.5 })).toThrow(/seed/);
    expect(bad({ stopSequences: [] })).toThrow(/stopSequences/);
    expect(bad({ reasoningEffort: "max" })).toThrow(/reasoningEffort/);
    expect(bad({ cacheSystemPrompt: true })).toThrow(/systemPrompt/);
    expect(bad({ temperature: 0.2, topP: 0.9, seed: 3, stopSequences: ["\n\n"] })).not.toThrow();
  });

  it("names the features a request uses, so that a provider can refuse what it cannot take", () => {
    const used = featuresOf({
      id: "r",
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", url: "https://example.com/cat.png" },
            { type: "image", data: "iVBORw0KGgo=", mediaType: "image/png" },
          ],
        },
      ],
      responseFormat: format as never,
      tools: [{ name: "f", parameters: {} }],
      seed: 1,
    });
    expect([...used].sort()).toEqual([
      "contentParts",
      "imageUrls",
      "images",
      "seed",
      "structuredOutput",
      "tools",
    ]);
  });
});

describe("embedding vectors", () => {
  it("are deterministic unit vectors of the asked length", () => {
    const vector = fakeVector("hello", 1536);
    expect(vector).toHaveLength(1536);
    expect(fakeVector("hello", 1536)).toEqual(vector);
    expect(fakeVector("hello!", 1536)).not.toEqual(vector);
    const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
    expect(norm).toBeCloseTo(1, 6);
  });
});
