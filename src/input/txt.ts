import { createReadStream } from "node:fs";
import { ValidationError } from "../errors.js";
import type { BatchRequest } from "../types.js";
import type { RequestDefaults } from "./defaults.js";
import { strictLines } from "./jsonl.js";

/**
 * Reads a text file with one prompt per line (blank lines skipped). Each request's ID is `line-<n>`, its line
 * number, so that a result can be traced back to its line; the model (required), system prompt and max tokens come
 * from the defaults.
 */
export async function* readTextRequests(
  path: string,
  defaults: RequestDefaults,
): AsyncGenerator<BatchRequest> {
  const { model } = defaults;
  if (model === undefined) {
    throw new ValidationError(
      `${path}: a text file holds prompts only; give the model with --model.`,
      "invalid_input_file",
    );
  }
  for await (const { text, lineNumber } of strictLines(createReadStream(path), path)) {
    if (text.trim() === "") continue;
    const request: BatchRequest = { id: `line-${lineNumber}`, model, prompt: text };
    if (defaults.systemPrompt !== undefined) request.systemPrompt = defaults.systemPrompt;
    if (defaults.maxTokens !== undefined) request.maxTokens = defaults.maxTokens;
    yield request;
  }
}
