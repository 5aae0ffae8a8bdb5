import { stringify } from "csv-stringify/sync";
import type { BatchResult } from "../../types.js";
import { resultSummary } from "./format.js";

export const RESULT_FORMATS = ["text", "jsonl", "json", "csv"] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** The columns of `relay results --format csv`, in order. */
export const CSV_RESULT_COLUMNS = [
  "id",
  "status",
  "text",
  "json",
  "tool_calls",
  "embedding",
  "finish_reason",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "reasoning_tokens",
  "model",
  "error_code",
  "error_message",
  "attempt_job_id",
] as const;

function csvRow(result: BatchResult): (string | number)[] {
  return [
    result.id,
    result.status,
    result.text ?? "",
    result.json === undefined ? "" : JSON.stringify(result.json),
    result.toolCalls === undefined ? "" : JSON.stringify(result.toolCalls),
    result.embedding === undefined ? "" : JSON.stringify(result.embedding),
    result.finishReason ?? "",
    result.usage?.inputTokens ?? "",
    result.usage?.outputTokens ?? "",
    result.usage?.cachedInputTokens ?? "",
    result.usage?.reasoningTokens ?? "",
    result.model ?? "",
    result.error?.code ?? "",
    result.error?.message ?? "",
    result.attempt?.jobId ?? "",
  ];
}

/**
 * Turns a stream of results into the chunks of one output format: `text` for people (sanitised), `jsonl` one
 * exact JSON result per line, `json` one array (one element per line), `csv` a header and one row per result
 * (RFC 4180 quoting; the text exactly as the model wrote it; structured output, tool calls and embeddings as JSON).
 */
export async function* formatResults(
  results: AsyncIterable<BatchResult>,
  format: ResultFormat,
): AsyncGenerator<string> {
  const iterator = results[Symbol.asyncIterator]();
  // The first result is awaited before anything is written, so that a job without results prints nothing at all.
  let next = await iterator.next();
  let first = true;
  if (format === "csv") yield stringify([[...CSV_RESULT_COLUMNS]]);
  if (format === "json") yield "[";
  for (; !next.done; next = await iterator.next()) {
    const result = next.value;
    if (format === "text") yield `${resultSummary(result)}\n`;
    else if (format === "jsonl") yield `${JSON.stringify(result)}\n`;
    else if (format === "json") yield `${first ? "\n" : ",\n"}${JSON.stringify(result)}`;
    else yield stringify([csvRow(result)]);
    first = false;
  }
  if (format === "json") yield "\n]\n";
}
