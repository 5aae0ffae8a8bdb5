import type { ProviderEntry } from "../providers/entry.js";
import type { Usage } from "../types.js";
import { BatchPrices, PRICES_AS_OF, priceUsageOf } from "./prices.js";

/** What a model's share of a job cost. */
export interface ModelCost {
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  /** Null when the price table has no price for the model. */
  costUsd: number | null;
}

/** A cost, estimated before a job runs or counted from its results after. */
export interface CostReport {
  provider: string;
  inputTokens: number;
  outputTokens: number;
  /** The total at batch prices; null when any model has no price (see unknownModels), never a partial sum. */
  costUsd: number | null;
  byModel: Record<string, ModelCost>;
  /** Models without a price in the table, or results whose model is not known. */
  unknownModels: string[];
  /** The price table used. */
  pricesAsOf: string;
  /** The batch discount applied to the table's prices, and its source. */
  batchDiscount: { multiplier: number; source: string; note?: string };
}

/** The model name used for results whose model is not known. */
export const UNKNOWN_MODEL = "(unknown)";

interface Running extends ModelCost {
  cacheWriteInputTokens: number;
  /** Per-request prices of a tiered model, summed as they come. */
  pricedSoFar: number;
}

/**
 * Adds up usage per model and prices it at the provider's batch prices. Models with flat prices are priced once on
 * their totals (linear in tokens); models with size tiers are priced request by request, as the provider bills them.
 */
export class CostTally {
  private readonly prices: BatchPrices;
  private readonly models = new Map<string, Running>();

  constructor(private readonly provider: ProviderEntry) {
    this.prices = new BatchPrices(provider);
  }

  add(model: string | null | undefined, usage: Usage): void {
    const name = model || UNKNOWN_MODEL;
    let running = this.models.get(name);
    if (!running) {
      running = {
        requests: 0,
        inputTokens: 0,
        cachedInputTokens: 0,
        cacheWriteInputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        pricedSoFar: 0,
      };
      this.models.set(name, running);
    }
    running.requests += 1;
    running.inputTokens += usage.inputTokens;
    running.cachedInputTokens += usage.cachedInputTokens ?? 0;
    running.cacheWriteInputTokens += usage.cacheWriteInputTokens ?? 0;
    running.outputTokens += usage.outputTokens;
    const pricing = name === UNKNOWN_MODEL ? null : this.prices.pricing(name);
    if (pricing?.tiered) running.pricedSoFar += this.prices.price(name, priceUsageOf(usage)) ?? 0;
  }

  report(): CostReport {
    const byModel: Record<string, ModelCost> = {};
    const unknownModels: string[] = [];
    let inputTokens = 0;
    let outputTokens = 0;
    let total: number | null = 0;
    for (const [name, running] of [...this.models].sort(([a], [b]) => a.localeCompare(b))) {
      const pricing = name === UNKNOWN_MODEL ? null : this.prices.pricing(name);
      let costUsd: number | null;
      if (pricing === null) costUsd = null;
      else if (pricing.tiered) costUsd = running.pricedSoFar;
      else {
        costUsd = this.prices.price(
          name,
          priceUsageOf({
            inputTokens: running.inputTokens,
            outputTokens: running.outputTokens,
            totalTokens: running.inputTokens + running.outputTokens,
            cachedInputTokens: running.cachedInputTokens,
            cacheWriteInputTokens: running.cacheWriteInputTokens,
          }),
        );
      }
      if (costUsd === null) unknownModels.push(name);
      byModel[name] = {
        requests: running.requests,
        inputTokens: running.inputTokens,
        cachedInputTokens: running.cachedInputTokens,
        outputTokens: running.outputTokens,
        costUsd,
      };
      inputTokens += running.inputTokens;
      outputTokens += running.outputTokens;
      total = total === null || costUsd === null ? null : total + costUsd;
    }
    return {
      provider: this.provider.name,
      inputTokens,
      outputTokens,
      costUsd: total,
      byModel,
      unknownModels,
      pricesAsOf: PRICES_AS_OF,
      batchDiscount: { ...this.provider.batchDiscount },
    };
  }
}
