import type { RequestFeature } from "../requests/features.js";
import type { JobStatus } from "../types.js";
import type { ParsedResult, ProviderAdapter, ProviderLimits, ResolvedProviderConfig } from "./types.js";

/**
 * Everything shared code needs to know about a provider, without loading its SDK: how it is configured, what its
 * batches may hold, where the emulator serves it, and how to build its adapter. Every list of providers (the
 * `ProviderName` type, the CLI's help, the demo, the emulator, the tests) is derived from these entries.
 */
export interface ProviderEntry<Name extends string = string> {
  /** The `provider` value users pass. */
  readonly name: Name;
  /** The provider's own name, for people. */
  readonly displayName: string;
  /** The environment variable of the API key, named in errors. */
  readonly apiKeyEnv: string;
  /** Other variables the official SDK reads the key from, in the SDK's order of precedence (before apiKeyEnv). */
  readonly apiKeyEnvAliases?: readonly string[];
  /** The environment variable of the base URL. */
  readonly baseURLEnv: string;
  /** Other variables the official SDK reads the base URL from, read when baseURLEnv is unset. */
  readonly baseURLEnvAliases?: readonly string[];
  /** What the base URL points at, in the official SDK's convention. */
  readonly defaultBaseURL: string;
  /** The emulator's base URL for this provider is its origin followed by this path. */
  readonly emulatorBasePath: string;
  /** A model that exists at the provider, for the demo and the tests. */
  readonly demoModel: string;
  /** The provider's id in the price table (@pydantic/genai-prices). */
  readonly priceKey: string;
  /** What batches cost against the price table's (synchronous) prices, and where the provider says so. */
  readonly batchDiscount: BatchDiscount;
  /** What requests may ask of this provider beyond text in, text out; anything else is refused before sending. */
  readonly features?: readonly RequestFeature[];
  /** What one batch may hold; the planner splits jobs to respect it. */
  readonly limits: ProviderLimits;
  /** How a batch that runs too long ends at this provider; DEFAULT_BATCH_EXPIRY when not given. */
  readonly batchExpiry?: BatchExpiry;
  /** Builds the adapter; loaded on first use, so that an SDK costs memory only for the providers a process uses. */
  create(config: ResolvedProviderConfig): Promise<ProviderAdapter>;
  /** Needs no key: used to read stored records. */
  normaliseStatus(providerStatus: string): JobStatus;
  parseRecord(raw: unknown): ParsedResult | null;
}

/** When a provider ends a batch that has not finished, and what becomes of the requests it had finished. */
export interface BatchExpiry {
  /** How long after creation an unfinished batch expires. */
  afterMs: number;
  /** Whether the requests finished before the expiry keep their results (else every request comes back expired). */
  keepsFinishedResults: boolean;
}

/** The common rule: a batch expires 24 hours after creation and keeps what it finished. */
export const DEFAULT_BATCH_EXPIRY: BatchExpiry = { afterMs: 24 * 60 * 60_000, keepsFinishedResults: true };

export function batchExpiryOf(entry: ProviderEntry): BatchExpiry {
  return entry.batchExpiry ?? DEFAULT_BATCH_EXPIRY;
}

export interface BatchDiscount {
  /** Batch price = price-table price × multiplier (0.5 for "50% off"). */
  readonly multiplier: number;
  /** The provider's page that documents it. */
  readonly source: string;
  /** What the discount depends on, when it is not flat. */
  readonly note?: string;
}

/** Declares a provider entry, keeping its name as a literal type so that ProviderName can be derived. */
export function defineProvider<const Name extends string>(entry: ProviderEntry<Name>): ProviderEntry<Name> {
  return entry;
}
