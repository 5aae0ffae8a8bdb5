import { createReadStream } from "node:fs";
import { pipeline, Readable } from "node:stream";
import { type Info, parse } from "csv-parse";
import { RelayError, ValidationError } from "../errors.js";
import type { BatchRequest } from "../types.js";
import type { RequestDefaults } from "./defaults.js";

/** The columns a requests CSV may have; `prompt` is required. */
export const CSV_COLUMNS = ["id", "prompt", "model", "system_prompt", "max_tokens"] as const;

const invalid = (message: string) => new ValidationError(message, "invalid_input_file");

/** The file's text, decoded strictly: invalid UTF-8 is reported, never replaced. */
async function* strictText(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      yield decoder.decode(chunk, { stream: true });
    }
    yield decoder.decode();
  } catch (error) {
    if (error instanceof TypeError) throw invalid(`${path}: not valid UTF-8.`);
    throw error;
  }
}

function checkHeader(path: string, header: string[]): string[] {
  const names = header.map((name) => name.trim());
  const unknown = names.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw invalid(
      `${path}: unknown column${unknown.length > 1 ? "s" : ""} ${unknown.map((name) => JSON.stringify(name)).join(", ")}; ` +
        `the columns are ${CSV_COLUMNS.join(", ")} (a header line is required).`,
    );
  }
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw invalid(`${path}: the column "${repeated}" appears twice in the header.`);
  if (!names.includes("prompt")) {
    throw invalid(
      `${path}: no "prompt" column; the header must name the columns (${CSV_COLUMNS.join(", ")}).`,
    );
  }
  return names;
}

/**
 * Reads requests from a CSV file with a header line: `prompt` (required), and optionally `id` (else `row-<n>`, the
 * data row's number), `model`, `system_prompt` and `max_tokens`. An empty cell takes the default, if any. Quoted
 * fields may hold commas, quotes and newlines (a real CSV parser, RFC 4180).
 */
export async function* readCsvRequests(
  path: string,
  defaults: RequestDefaults,
): AsyncGenerator<BatchRequest> {
  const parser = parse({
    bom: true,
    columns: (header: string[]) => checkHeader(path, header),
    info: true,
    skip_empty_lines: true,
  });
  pipeline(Readable.from(strictText(path)), parser, () => {});
  let row = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: Info;
    }>) {
      row += 1;
      yield toRequest(record, `${path}, line ${info.lines}`, row, defaults);
    }
  } catch (error) {
    if (error instanceof RelayError) throw error;
    const detail = (error as Error).message;
    throw invalid(`${path}: not a valid CSV file (${detail}).`);
  }
}

function toRequest(
  record: Record<string, string>,
  where: string,
  row: number,
  defaults: RequestDefaults,
): BatchRequest {
  const cell = (name: string) => {
    const value = record[name];
    return value === undefined || value === "" ? undefined : value;
  };
  if ("id" in record && cell("id") === undefined) throw invalid(`${where}: the id is empty.`);
  const prompt = cell("prompt");
  if (prompt === undefined) throw invalid(`${where}: the prompt is empty.`);
  const model = cell("model") ?? defaults.model;
  if (model === undefined) throw invalid(`${where}: no model; give a model column or --model.`);
  const request: BatchRequest = { id: cell("id") ?? `row-${row}`, model, prompt };
  const systemPrompt = cell("system_prompt") ?? defaults.systemPrompt;
  if (systemPrompt !== undefined) request.systemPrompt = systemPrompt;
  const maxTokens = cell("max_tokens");
  if (maxTokens !== undefined) {
    if (!/^\s*\d+\s*$/.test(maxTokens) || Number(maxTokens) < 1) {
      throw invalid(
        `${where}: max_tokens must be a whole number of at least 1, not ${JSON.stringify(maxTokens)}.`,
      );
    }
    request.maxTokens = Number(maxTokens);
  } else if (defaults.maxTokens !== undefined) request.maxTokens = defaults.maxTokens;
  return request;
}
