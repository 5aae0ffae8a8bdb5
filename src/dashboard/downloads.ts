import type { ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify";
import type { BatchResult } from "../types.js";
import type { ResultsSource } from "./results.js";

export type DownloadFormat = "jsonl" | "csv";

const CSV_COLUMNS = [
  "id",
  "status",
  "text",
  "finish_reason",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "model",
  "error_code",
  "error_message",
  "attempt_job_id",
];

function csvRow(result: BatchResult): (string | number | null)[] {
  return [
    result.id,
    result.status,
    result.text ?? null,
    result.finishReason ?? null,
    result.usage?.inputTokens ?? null,
    result.usage?.outputTokens ?? null,
    result.usage?.cachedInputTokens ?? null,
    result.model ?? null,
    result.error?.code ?? null,
    result.error?.message ?? null,
    result.attempt?.jobId ?? null,
  ];
}

async function* jsonLines(results: AsyncIterable<BatchResult>): AsyncGenerator<string> {
  for await (const result of results) yield `${JSON.stringify(result)}\n`;
}

async function* csvRows(results: AsyncIterable<BatchResult>): AsyncGenerator<(string | number | null)[]> {
  for await (const result of results) yield csvRow(result);
}

/**
 * Streams a job's results as a file to save: JSONL (each result whole, the provider's raw record included) or CSV
 * (one row per result; cells that a spreadsheet would run as a formula are escaped). A read error midway aborts the
 * response, so that a truncated file is never mistaken for a whole one.
 */
export async function sendResultsFile(
  response: ServerResponse,
  source: ResultsSource,
  options: { jobId: string; format: DownloadFormat; merged: boolean },
): Promise<void> {
  const name = `${options.jobId}${options.merged ? "-merged" : ""}-results.${options.format}`;
  response.writeHead(200, {
    "content-type":
      options.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    "content-disposition": `attachment; filename="${name}"`,
    "cache-control": "no-store",
  });
  const results = source.open();
  if (options.format === "jsonl") await pipeline(Readable.from(jsonLines(results)), response);
  else
    await pipeline(
      Readable.from(csvRows(results)),
      stringify({ header: true, columns: CSV_COLUMNS, escape_formulas: true }),
      response,
    );
}
