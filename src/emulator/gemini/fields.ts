import { unknownField } from "./errors.js";

type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** A request the API would refuse, with the API's message. */
export class RequestProblem extends Error {}

export const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * The fields of a message by their camelCase names, as proto JSON parsing reads them: either spelling is
 * accepted, anything else is refused.
 */
const namesByList = new WeakMap<readonly string[], Map<string, string>>();

function namesOf(known: readonly string[]): Map<string, string> {
  let names = namesByList.get(known);
  if (!names) {
    names = new Map(known.flatMap((name) => [[name, name] as const, [snake(name), name] as const]));
    namesByList.set(known, names);
  }
  return names;
}

export function fieldsOf(value: unknown, known: readonly string[], where: string): Json {
  if (!isObject(value)) throw new RequestProblem(`Invalid value at '${where}': expected an object.`);
  const byName = namesOf(known);
  const fields: Json = {};
  for (const [name, field] of Object.entries(value)) {
    const canonical = byName.get(name);
    if (!canonical) throw new RequestProblem(unknownField(name, where));
    fields[canonical] = field;
  }
  return fields;
}

/** A request may name a model only if it is the batch's own (with or without the `models/` prefix). */
export function checkBatchModel(model: unknown, where: string, batchModel: string): void {
  if (model !== undefined && model !== batchModel && `models/${model}` !== batchModel) {
    throw new RequestProblem(`* ${where}.model: ${String(model)} is not the batch's model (${batchModel}).`);
  }
}
