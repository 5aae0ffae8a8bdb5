import { createHash } from "node:crypto";

type Json = Record<string, unknown>;

const SAFE = { filtered: false, severity: "safe" };

/** Azure's content-filter verdicts on a completion and on its prompt (az-docs batch output sample). */
const COMPLETION_FILTERS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTERS = [
  {
    prompt_index: 0,
    content_filter_results: { ...COMPLETION_FILTERS, jailbreak: { filtered: false, detected: false } },
  },
];

/** A UUID that is the same for the same seed, so that a result file reads the same each time. */
function seededUuid(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A result line as Azure writes it: no line `id`, a UUID `request_id`, and content-filter results on a chat
 * completion's choices and prompt.
 */
export function azureResultLine(record: Json, seed: string): Json {
  const { id: _, ...line } = record;
  const response = record.response as Json | null;
  if (!response) return line;
  const body = response.body as Json;
  const choices = Array.isArray(body.choices) ? (body.choices as Json[]) : undefined;
  line.response = {
    ...response,
    request_id: seededUuid(seed),
    body: choices
      ? {
          ...body,
          choices: choices.map((choice) => ({ ...choice, content_filter_results: COMPLETION_FILTERS })),
          prompt_filter_results: PROMPT_FILTERS,
        }
      : body,
  };
  return line;
}
