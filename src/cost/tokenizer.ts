import type { Tiktoken } from "js-tiktoken/lite";

/** Counts the tokens of a text for one model. */
export interface TokenCounter {
  count(text: string): number;
  /** True when a real tokenizer of the model counts; false for the approximation. */
  readonly exact: boolean;
}

/**
 * The stated approximation for models without a tokenizer Relay can run: about four characters a token, rounded
 * up. English prose is close to it; code, other languages and numbers cost more tokens per character.
 */
export const APPROXIMATE_COUNTER: TokenCounter = {
  count: (text) => Math.ceil(text.length / 4),
  exact: false,
};

type Encoding = "o200k_base" | "cl100k_base";

/** OpenAI's encodings by model family (as tiktoken maps them); other models have none. */
function encodingOf(model: string): Encoding | null {
  const name = model.toLowerCase().replace(/^ft:/, "");
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-|gpt-oss|codex-)/.test(name)) return "o200k_base";
  if (/^(gpt-4|gpt-3\.5|text-embedding-|davinci-002|babbage-002)/.test(name)) return "cl100k_base";
  return null;
}

const encoders = new Map<Encoding, Promise<Tiktoken>>();

async function loadEncoder(encoding: Encoding): Promise<Tiktoken> {
  // Loaded on first use: the ranks cost about 150 MB and half a second.
  const { Tiktoken } = await import("js-tiktoken/lite");
  const ranks =
    encoding === "o200k_base"
      ? (await import("js-tiktoken/ranks/o200k_base")).default
      : (await import("js-tiktoken/ranks/cl100k_base")).default;
  return new Tiktoken(ranks);
}

/** A real tokenizer where one exists for the model (OpenAI's models, through js-tiktoken), else the approximation. */
export async function tokenCounterFor(model: string): Promise<TokenCounter> {
  const encoding = encodingOf(model);
  if (encoding === null) return APPROXIMATE_COUNTER;
  let encoder = encoders.get(encoding);
  if (!encoder) {
    encoder = loadEncoder(encoding);
    encoders.set(encoding, encoder);
  }
  const loaded = await encoder;
  return { count: (text) => loaded.encode(text).length, exact: true };
}

/** Token counters per model, each looked up once. */
export class TokenCounters {
  private readonly counters = new Map<string, Promise<TokenCounter>>();

  get(model: string): Promise<TokenCounter> {
    let counter = this.counters.get(model);
    if (!counter) {
      counter = tokenCounterFor(model);
      this.counters.set(model, counter);
    }
    return counter;
  }
}
