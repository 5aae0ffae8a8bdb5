import type { AddedRequest } from "../../src/emulator/xai/input.js";
import type { BatchJob, BatchResult, ProviderName, RelayClient } from "../../src/index.js";
import { isFinished } from "../../src/types.js";
import { ENOUGH_TIME_MS, type Harness } from "./harness.js";

type Json = Record<string, unknown>;

/** Monitors a job, moving the emulator's clock on, until it has finished; then returns its results. */
export async function resultsOf(
  harness: Harness,
  client: RelayClient,
  jobId: string,
): Promise<BatchResult[]> {
  let job: BatchJob | undefined;
  for (let round = 0; round < 12; round += 1) {
    harness.clock.advance(ENOUGH_TIME_MS);
    job = await client.monitorBatch(jobId);
    if (isFinished(job.status)) break;
  }
  if (!job || !isFinished(job.status)) throw new Error(`job ${jobId} did not finish: ${job?.status}`);
  return client.retrieveBatchResults(jobId);
}

/** The results of a job by request ID. */
export function byId(results: readonly BatchResult[]): Map<string, BatchResult> {
  return new Map(results.map((result) => [result.id, result]));
}

function linesOf(lines: Iterable<string>): [string, Json][] {
  return [...lines]
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const parsed = JSON.parse(line) as Json;
      return [String(parsed.custom_id), parsed.body as Json];
    });
}

/** Every request body the provider's emulation received, by custom ID (the latest when sent twice). */
export function sentBodies(harness: Harness, provider: ProviderName): Map<string, Json> {
  const { providers } = harness.emulator;
  const sent = new Map<string, Json>();
  const keep = (pairs: [string, Json][]) => {
    for (const [id, body] of pairs) sent.set(id, body);
  };
  switch (provider) {
    case "openai":
    case "azure":
    case "groq": {
      const emulation = providers[provider];
      for (const file of emulation.files.list()) {
        if (file.purpose === "batch") keep(linesOf(emulation.files.contentLines(file)));
      }
      break;
    }
    case "together":
      for (const batch of providers.together.batches.values()) {
        const files = providers.together.files;
        keep(linesOf(files.contentLines(files.get(batch.inputFileId))));
      }
      break;
    case "mistral":
      for (const batch of providers.mistral.batches.values()) {
        for (const id of batch.inputFiles) {
          const files = providers.mistral.files;
          keep(linesOf(files.contentLines(files.get(id))));
        }
      }
      break;
    case "xai":
      for (const batch of providers.xai.batches.values()) {
        for (const segment of batch.segments) {
          for (const request of segment.requests as readonly AddedRequest[])
            sent.set(request.customId, request.body);
        }
      }
      break;
    default:
      throw new Error(`no sent bodies for ${provider}`);
  }
  return sent;
}

/** The content of the first message (or Responses input item) of a body that was sent. */
export function firstContent(body: Json | undefined, key: "messages" | "input" = "messages"): unknown {
  const list = body?.[key];
  return Array.isArray(list) ? (list[0] as Json | undefined)?.content : undefined;
}

/** A schema every strict structured-output mode takes: all properties required, nothing else allowed. */
export const LABEL_SCHEMA = {
  type: "object",
  properties: {
    label: { type: "string", enum: ["spam", "ham"] },
    confidence: { type: "number", minimum: 0, maximum: 1 },
    reasons: { type: "array", items: { type: "string" }, minItems: 1 },
  },
  required: ["label", "confidence", "reasons"],
  additionalProperties: false,
};

/** A tool whose arguments are an object with a required city. */
export const WEATHER_TOOL = {
  name: "get_weather",
  description: "The weather in a city.",
  parameters: {
    type: "object",
    properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
    required: ["city", "unit"],
    additionalProperties: false,
  },
};

/** A 1×1 transparent PNG, base64. */
export const PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
