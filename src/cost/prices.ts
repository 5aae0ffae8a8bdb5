import { readFileSync } from "node:fs";
import { calcPrice } from "@pydantic/genai-prices";
import type { ProviderEntry } from "../providers/entry.js";
import type { Usage } from "../types.js";

/** Token counts in the price table's terms: input_tokens counts every prompt token, cached ones included. */
interface PriceUsage extends Record<string, number | undefined> {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens?: number;
  cache_write_tokens?: number;
}

export function priceUsageOf(usage: Usage): PriceUsage {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    ...(usage.cachedInputTokens ? { cache_read_tokens: usage.cachedInputTokens } : {}),
    ...(usage.cacheWriteInputTokens ? { cache_write_tokens: usage.cacheWriteInputTokens } : {}),
  };
}

/** Which table of prices: the package and the date its data was published. */
export const PRICES_AS_OF = pricesAsOf();

function pricesAsOf(): string {
  try {
    const packageJson = new URL("../package.json", import.meta.resolve("@pydantic/genai-prices"));
    const { version } = JSON.parse(readFileSync(packageJson, "utf8")) as { version: string };
    return `@pydantic/genai-prices ${version}`;
  } catch {
    return "@pydantic/genai-prices";
  }
}

interface ModelPricing {
  /** Prices that depend on a request's size (long-context tiers): such a model is priced request by request. */
  tiered: boolean;
}

/**
 * Batch prices of a provider's models: the price table's prices (synchronous APIs) times the provider's documented
 * batch discount. A model the table does not know has no price (null), never a price of zero.
 */
export class BatchPrices {
  private readonly models = new Map<string, ModelPricing | null>();

  constructor(private readonly provider: ProviderEntry) {}

  /** What the usage costs in US dollars at batch prices, or null for a model without a price. */
  price(model: string, usage: PriceUsage): number | null {
    const result = calcPrice(usage, model, { providerId: this.provider.priceKey });
    return result === null ? null : result.total_price * this.provider.batchDiscount.multiplier;
  }

  /** Whether the model has a price, and whether it must be priced request by request. */
  pricing(model: string): ModelPricing | null {
    let known = this.models.get(model);
    if (known === undefined) {
      const probe = calcPrice({ input_tokens: 1, output_tokens: 1 }, model, {
        providerId: this.provider.priceKey,
      });
      known =
        probe === null
          ? null
          : {
              tiered: Object.values(probe.model_price).some(
                (price) => typeof price === "object" && price !== null && "tiers" in price,
              ),
            };
      this.models.set(model, known);
    }
    return known;
  }
}
