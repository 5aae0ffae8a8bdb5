import type { SimRequest } from "../engine.js";
import { seededGroqId } from "./ids.js";

type Json = Record<string, unknown>;

/**
 * A result line as Groq writes it (groq-api-cookbook batch_output.jsonl): IDs `batch_req_out_…` and `req_…`,
 * usage with Groq's timings, and `x_groq` beside the completion.
 */
export function groqResultLine(record: Json, request: SimRequest, seed: string, now: number): Json {
  const requestId = seededGroqId("req_", now, `${seed}:request`);
  const decorated: Json = { ...record, id: seededGroqId("batch_req_out_", now, seed) };
  const response = record.response as Json | null;
  if (!response) return decorated;
  const body = response.body as Json;
  // Groq's recorded lines carry no token details; its timings instead.
  const { prompt_tokens_details: _, completion_tokens_details: __, ...usage } = (body.usage ?? {}) as Json;
  const success = body.object === "chat.completion";
  decorated.response = {
    ...response,
    request_id: requestId,
    body: success
      ? {
          ...body,
          model: request.model,
          usage: { ...usage, ...timings(usage) },
          system_fingerprint: "fp_emulator",
          x_groq: { id: requestId },
        }
      : body,
  };
  return decorated;
}

/** Queue and processing times in seconds, derived from the token counts so that they are stable. */
function timings(usage: Json): Json {
  const prompt = Number(usage.prompt_tokens ?? 0);
  const completion = Number(usage.completion_tokens ?? 0);
  const promptTime = prompt / 20_000;
  const completionTime = completion / 750;
  return {
    queue_time: 0.25,
    prompt_time: promptTime,
    completion_time: completionTime,
    total_time: promptTime + completionTime,
  };
}
