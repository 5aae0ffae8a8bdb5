import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { BatchResult } from "../types.js";
import type { ResolvedFormat } from "./format.js";

/**
 * Checks structured output against the request's JSON Schema with a real validator (Ajv, JSON Schema 2020-12, which
 * also reads the draft-07 schemas people usually write). Compiled schemas are kept per checker.
 */
export class OutputChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: false });
  private readonly compiled = new Map<ResolvedFormat, ValidateFunction>();

  private validatorOf(format: ResolvedFormat): ValidateFunction {
    let validate = this.compiled.get(format);
    if (!validate) {
      // The $schema names a meta-schema Ajv may not have loaded; the keywords are read alike.
      const { $schema: _ignored, ...schema } = format.schema;
      validate = this.ajv.compile(schema);
      this.compiled.set(format, validate);
    }
    return validate;
  }

  /**
   * A succeeded result of a request with a schema: `json` set when the answer parses and validates, else status
   * `invalid_output` with why (the text is kept). The answer is the text, or the arguments of a call of the tool
   * named after the schema (how Anthropic is asked for structured output).
   */
  check(result: BatchResult, format: ResolvedFormat): BatchResult {
    if (result.status !== "succeeded") return result;
    const forced = result.toolCalls?.find((call) => call.name === format.name);
    let value: unknown;
    if (forced) {
      if (typeof forced.arguments === "string")
        return invalid(result, "invalid_json", "the tool call's arguments are not JSON");
      value = forced.arguments;
    } else {
      if (result.text === undefined)
        return invalid(result, "invalid_json", "the model returned no text to parse");
      try {
        value = JSON.parse(result.text);
      } catch (error) {
        return invalid(result, "invalid_json", `the answer is not JSON (${(error as Error).message})`);
      }
    }
    const validate = this.validatorOf(format);
    if (!validate(value)) {
      const first = validate.errors?.[0];
      const where = first?.instancePath || "/";
      return invalid(
        result,
        "schema_mismatch",
        `the answer does not match the schema at ${where}: ${first?.message ?? "invalid"}`,
      );
    }
    return { ...result, json: value };
  }
}

function invalid(result: BatchResult, code: string, message: string): BatchResult {
  return { ...result, status: "invalid_output", error: { code, message: `Structured output: ${message}.` } };
}
