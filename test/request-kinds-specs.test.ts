import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchRequest, EmbeddingRequest } from "../src/index.js";
import { encodeMistralEmbedding, mistralChatBody } from "../src/providers/mistral/encode.js";
import { encodeOpenAIEmbedding, OPENAI_LINES } from "../src/providers/openai/encode.js";
import { encodeOpenAILine } from "../src/providers/shared/openai-compatible/encode.js";
import { encodeTogetherLine } from "../src/providers/together/encode.js";
import { type Harness, startHarness } from "./support/harness.js";
import { LABEL_SCHEMA, PIXEL_PNG, resultsOf, WEATHER_TOOL } from "./support/kinds.js";
import { loadSpec, type OpenApiSpecValidator, sharedDir } from "./support/openapi.js";

const openai = await loadSpec("openai-openapi.yaml");
const together = await loadSpec("together-openapi.yaml");
const mistral = await loadSpec("mistral-openapi.yaml");

function title(name: string, spec: OpenApiSpecValidator | null): string {
  if (spec) return name;
  return `${name} (skipped: ${sharedDir() ? "the spec file is missing" : "no ../shared directory beside the repo"})`;
}

/** A request that uses every kind a chat body can carry. */
const everything = (model: string): BatchRequest => ({
  id: "all",
  model,
  systemPrompt: "Be exact.",
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "Look:" },
        { type: "image", data: PIXEL_PNG, mediaType: "image/png" },
        { type: "image", url: "https://example.com/a.jpg" },
      ],
    },
    { role: "assistant", content: [{ type: "text", text: "I see." }] },
  ],
  prompt: "Label it.",
  maxTokens: 200,
  responseFormat: { type: "json_schema", name: "label", schema: LABEL_SCHEMA },
  tools: [WEATHER_TOOL],
  toolChoice: "auto",
  temperature: 0.5,
  topP: 0.9,
});

const bodyOf = (line: string) => (JSON.parse(line) as { body: Record<string, unknown> }).body;

describe.skipIf(!openai)(title("OpenAI request kinds against openai-openapi.yaml", openai), () => {
  const spec = openai as OpenApiSpecValidator;

  it("chat-completions bodies Relay writes are CreateChatCompletionRequest", () => {
    const request = {
      ...everything("gpt-4o-mini"),
      stopSequences: ["END"],
      seed: 3,
      reasoningEffort: "low" as const,
    };
    const cached = { ...request, cacheSystemPrompt: true, toolChoice: { name: "get_weather" } };
    for (const each of [request, cached]) {
      expect(
        spec.validate(
          "CreateChatCompletionRequest",
          bodyOf(encodeOpenAILine(each, "/v1/chat/completions", OPENAI_LINES)),
        ),
      ).toEqual([]);
    }
  });

  it("Responses bodies Relay writes are CreateResponse", () => {
    const request = {
      ...everything("gpt-4o-mini"),
      reasoningEffort: "medium" as const,
      toolChoice: { name: "get_weather" },
    };
    const body = bodyOf(encodeOpenAILine(request, "/v1/responses", OPENAI_LINES));
    // A message with content parts matches both EasyInputMessage and InputMessage, which the spec's `oneOf`
    // forbids: each item is checked as the EasyInputMessage it is, and the rest of the body with a text input.
    expect(spec.validate("CreateResponse", { ...body, input: "x" })).toEqual([]);
    for (const item of body.input as unknown[]) expect(spec.validate("EasyInputMessage", item)).toEqual([]);
  });

  it("embeddings bodies Relay writes are CreateEmbeddingRequest", () => {
    const request: EmbeddingRequest = {
      id: "e",
      model: "text-embedding-3-large",
      input: "hello",
      dimensions: 64,
    };
    expect(spec.validate("CreateEmbeddingRequest", bodyOf(encodeOpenAIEmbedding(request)))).toEqual([]);
  });

  describe("the emulator's answers", () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(async () => {
      await harness.close();
    });

    it("are CreateChatCompletionResponse, Response and CreateEmbeddingResponse, with tool calls and JSON", async () => {
      const client = harness.client();
      const requests: BatchRequest[] = [
        {
          id: "json",
          model: "gpt-4o-mini",
          prompt: "p",
          responseFormat: { type: "json_schema", name: "label", schema: LABEL_SCHEMA },
        },
        {
          id: "tool",
          model: "gpt-4o-mini",
          prompt: "p",
          tools: [WEATHER_TOOL],
          toolChoice: "required",
          reasoningEffort: "low",
        },
      ];
      await client.submitBatch({ requests, jobId: "chat", provider: "openai" });
      await client.submitBatch({
        requests,
        jobId: "responses",
        provider: "openai",
        endpoint: "/v1/responses",
      });
      await client.submitBatch({
        kind: "embeddings",
        requests: [{ id: "v", model: "text-embedding-3-small", input: "hello" }],
        jobId: "embeddings",
        provider: "openai",
      });
      const schemas: Record<string, string> = {
        chat: "CreateChatCompletionResponse",
        responses: "Response",
        embeddings: "CreateEmbeddingResponse",
      };
      for (const [jobId, schema] of Object.entries(schemas)) {
        for (const result of await resultsOf(harness, client, jobId)) {
          expect(result.status).toBe("succeeded");
          const line = result.raw as { response: { body: unknown } };
          // The embedding's values are noted, not repeated, in raw: check the answer with a vector in place.
          const body =
            jobId === "embeddings"
              ? {
                  ...(line.response.body as object),
                  data: [{ object: "embedding", index: 0, embedding: result.embedding }],
                }
              : line.response.body;
          expect(spec.validate(schema, body), `${jobId}/${result.id}`).toEqual([]);
        }
      }
    });
  });
});

/** The success bodies of a job's results (vectors put back where raw notes them). */
async function answersOf(harness: Harness, jobId: string): Promise<[string, unknown][]> {
  const results = await resultsOf(harness, harness.client(), jobId);
  return results.map((result) => {
    expect(result.status, `${jobId}/${result.id}`).toBe("succeeded");
    const body = (result.raw as { response: { body: Record<string, unknown> } }).response.body;
    const data = result.embedding
      ? [{ object: "embedding", index: 0, embedding: result.embedding }]
      : undefined;
    return [result.id, data ? { ...body, data } : body];
  });
}

const kindsRequests = (model: string): BatchRequest[] => [
  {
    id: "json",
    model,
    prompt: "p",
    responseFormat: { type: "json_schema", name: "label", schema: LABEL_SCHEMA },
  },
  { id: "tool", model, prompt: "p", tools: [WEATHER_TOOL], toolChoice: { name: "get_weather" } },
];

describe.skipIf(!together)(title("Together request kinds against together-openapi.yaml", together), () => {
  const spec = together as OpenApiSpecValidator;
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  it("chat bodies Relay writes are ChatCompletionRequest", () => {
    const request = {
      ...everything("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"),
      stopSequences: ["END"],
      seed: 3,
      reasoningEffort: "high" as const,
    };
    expect(spec.validate("ChatCompletionRequest", bodyOf(encodeTogetherLine(request)))).toEqual([]);
  });

  it("the emulator's answers are ChatCompletionResponse, with tool calls and JSON", async () => {
    const model = "meta-llama/Llama-3.3-70B-Instruct-Turbo";
    await harness.client().submitBatch({ requests: kindsRequests(model), jobId: "t", provider: "together" });
    // The spec requires `prompt` (sent only with `echo`) and refuses a null `logprobs` through its allOf: the
    // parts the request kinds shape are checked, the message and the usage.
    for (const [id, body] of await answersOf(harness, "t")) {
      const { choices, usage } = body as { choices: { message: unknown }[]; usage: unknown };
      expect(spec.validate("ChatCompletionMessage", choices[0]?.message), id).toEqual([]);
      expect(spec.validate("UsageData", usage), id).toEqual([]);
    }
  });
});

describe.skipIf(!mistral)(title("Mistral request kinds against mistral-openapi.yaml", mistral), () => {
  const spec = mistral as OpenApiSpecValidator;

  it("chat bodies Relay writes are ChatCompletionRequest (with the job's model)", () => {
    const request = {
      ...everything("mistral-small-latest"),
      stopSequences: ["END"],
      seed: 3,
      reasoningEffort: "high" as const,
      cacheSystemPrompt: true,
    };
    const body = { model: "mistral-small-latest", ...mistralChatBody(request) };
    expect(spec.validate("ChatCompletionRequest", body)).toEqual([]);
  });

  it("embeddings bodies Relay writes are EmbeddingRequest (with the job's model)", () => {
    const body = bodyOf(
      encodeMistralEmbedding({ id: "e", model: "codestral-embed", input: "hello", dimensions: 256 }),
    );
    expect(spec.validate("EmbeddingRequest", { model: "codestral-embed", ...body })).toEqual([]);
  });

  describe("the emulator's answers", () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(async () => {
      await harness.close();
    });

    it("are ChatCompletionResponse (tool calls, JSON) and EmbeddingResponse", async () => {
      const client = harness.client();
      await client.submitBatch({
        requests: kindsRequests("mistral-small-latest"),
        jobId: "m",
        provider: "mistral",
      });
      await client.submitBatch({
        kind: "embeddings",
        requests: [{ id: "v", model: "mistral-embed", input: "hello" }],
        jobId: "mv",
        provider: "mistral",
      });
      // ChatCompletionResponse requires `data` (its required list is EmbeddingResponse's): its parts are checked.
      for (const [id, body] of await answersOf(harness, "m")) {
        const { choices, usage } = body as { choices: unknown[]; usage: unknown };
        expect(spec.validate("ChatCompletionChoice", choices[0]), id).toEqual([]);
        expect(spec.validate("UsageInfo", usage), id).toEqual([]);
      }

      for (const [id, body] of await answersOf(harness, "mv"))
        expect(spec.validate("EmbeddingResponse", body), id).toEqual([]);
    });
  });
});
