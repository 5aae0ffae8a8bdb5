// Validates values against the providers' published OpenAPI specs in ../shared/specs (see shared/specs/SOURCES.md).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";

// ajv-formats is CommonJS; under NodeNext its default import is the whole module object.
const addFormats = addFormatsModule.default;

type Json = null | boolean | number | string | Json[] | JsonObject;
type JsonObject = { [key: string]: Json };

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SPEC_REF_PREFIX = "#/components/schemas/";

/**
 * The `shared` directory beside the repository (or where `RELAY_SHARED_DIR` points, for a checkout that lives
 * elsewhere), or null when it is absent (e.g. a bare checkout).
 */
export function sharedDir(): string | null {
  const dir = path.resolve(REPO_ROOT, process.env.RELAY_SHARED_DIR || "../shared");
  return existsSync(dir) ? dir : null;
}

/** Validates values against the `components.schemas` of one OpenAPI 3.1 document. */
export class OpenApiSpecValidator {
  readonly label: string;
  // Meta-schema validation of the whole document is off so that one odd schema cannot block all the others;
  // a broken schema still fails when it is compiled, on first use.
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  readonly #id: string;
  readonly #names: ReadonlySet<string>;
  readonly #compiled = new Map<string, ValidateFunction>();

  /** `label` names the spec in messages; `schemas` is the document's `components.schemas`. */
  constructor(label: string, schemas: JsonObject) {
    this.label = label;
    this.#id = `https://relay-llm.test/specs/${encodeURIComponent(label)}`;
    this.#names = new Set(Object.keys(schemas));
    const formats = new Set<string>();
    const defs: JsonObject = {};
    for (const [name, schema] of Object.entries(schemas)) defs[name] = toJsonSchema(schema, name, formats);
    addFormats(this.#ajv);
    // The specs use formats no JSON Schema library knows (unixtime, float64, integer): accept any value for them.
    for (const format of formats) if (!this.#ajv.formats[format]) this.#ajv.addFormat(format, true);
    // One document holding every schema; each one is compiled only when first validated against.
    this.#ajv.addSchema({ $id: this.#id, $defs: defs });
  }

  hasSchema(name: string): boolean {
    return this.#names.has(name);
  }

  /** Human-readable errors of `value` against `components.schemas[schemaName]`; empty when valid. */
  validate(schemaName: string, value: unknown): string[] {
    const validateFn = this.#validator(schemaName);
    if (validateFn(value)) return [];
    return (validateFn.errors ?? []).map(formatError);
  }

  #validator(name: string): ValidateFunction {
    let validateFn = this.#compiled.get(name);
    if (!validateFn) {
      // A typo must not look like "invalid value", so an unknown name throws rather than returning errors.
      if (!this.hasSchema(name)) throw new Error(`${this.label} has no schema named ${JSON.stringify(name)}`);
      validateFn = this.#ajv.compile({ $ref: `${this.#id}#/$defs/${name}` });
      this.#compiled.set(name, validateFn);
    }
    return validateFn;
  }
}

// Parsing the 3 MB OpenAI spec takes about a second: parse each file once per module instance.
const specCache = new Map<string, Promise<OpenApiSpecValidator | null>>();

/** The validator for `<shared>/specs/<fileName>`, or null when shared/ or the file is absent. */
export function loadSpec(fileName: string): Promise<OpenApiSpecValidator | null> {
  let spec = specCache.get(fileName);
  if (!spec) {
    spec = readSpec(fileName);
    specCache.set(fileName, spec);
  }
  return spec;
}

async function readSpec(fileName: string): Promise<OpenApiSpecValidator | null> {
  const shared = sharedDir();
  const file = shared && path.join(shared, "specs", fileName);
  if (!file || !existsSync(file)) return null;
  const doc = parse(await readFile(file, "utf8")) as { components?: { schemas?: JsonObject } };
  return new OpenApiSpecValidator(fileName, doc.components?.schemas ?? {});
}

function formatError({ instancePath, message, keyword, params }: ErrorObject): string {
  let detail = "";
  if (keyword === "enum") detail = ` ${JSON.stringify(params.allowedValues)}`;
  if (keyword === "additionalProperties") detail = `: ${params.additionalProperty}`;
  return `${instancePath || "(root)"} ${message}${detail}`;
}

// Keywords whose values are subschemas. Only these are walked, so example/default/enum data and property *names*
// such as `nullable` or `$ref` are never mistaken for schema keywords.
const ONE_SCHEMA = new Set([
  "items",
  "additionalProperties",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contains",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
]);
const SCHEMA_MAP = new Set(["properties", "patternProperties", "dependentSchemas", "$defs"]);
const SCHEMA_LIST = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
const APPLICATORS = ["$ref", "allOf", "anyOf", "oneOf", "not", "if", "const"];

/**
 * Turns one OpenAPI schema (`self` is its name in components.schemas) into plain JSON Schema 2020-12: refs point
 * into our `$defs`, and the OpenAPI 3.0 / draft 2019-09 leftovers found in the specs get their 2020-12 meaning.
 */
function toJsonSchema(node: Json, self: string, formats: Set<string>): Json {
  if (!isObject(node)) return node;
  const walk = (value: Json): Json => toJsonSchema(value, self, formats);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "nullable" || key === "$recursiveAnchor") continue;
    if (key === "$ref" && typeof value === "string" && value.startsWith(SPEC_REF_PREFIX)) {
      out[key] = `#/$defs/${value.slice(SPEC_REF_PREFIX.length)}`;
    } else if (key === "$recursiveRef") {
      // Only used as `$recursiveRef: "#"` inside a schema with `$recursiveAnchor: true`, i.e. "this schema".
      out.$ref = `#/$defs/${self}`;
    } else if (ONE_SCHEMA.has(key)) {
      out[key] = walk(value);
    } else if (SCHEMA_LIST.has(key) && Array.isArray(value)) {
      out[key] = value.map(walk);
    } else if (SCHEMA_MAP.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    } else {
      out[key] = value;
    }
  }
  // OpenAPI 3.0 booleans: `minimum: 0, exclusiveMinimum: true` means `exclusiveMinimum: 0`.
  for (const [bound, exclusive] of [
    ["minimum", "exclusiveMinimum"],
    ["maximum", "exclusiveMaximum"],
  ] as const) {
    const flag = out[exclusive];
    if (typeof flag !== "boolean") continue;
    delete out[exclusive];
    if (flag && typeof out[bound] === "number") {
      out[exclusive] = out[bound];
      delete out[bound];
    }
  }
  if (typeof out.format === "string") formats.add(out.format);
  return node.nullable === true ? allowNull(out) : out;
}

function allowNull(schema: JsonObject): JsonObject {
  const { type } = schema;
  // Widening `type` keeps error messages short, but only works when nothing else (refs, combinators) constrains.
  if (typeof type === "string" && !APPLICATORS.some((key) => key in schema)) {
    const widened: JsonObject = { ...schema, type: [type, "null"] };
    if (Array.isArray(schema.enum)) widened.enum = [...schema.enum, null];
    return widened;
  }
  return { anyOf: [schema, { type: "null" }] };
}

function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
