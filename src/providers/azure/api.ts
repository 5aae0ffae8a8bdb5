import { ValidationError } from "../../errors.js";

/** Which of Azure OpenAI's two APIs Relay speaks, and how. */
export interface AzureApi {
  /** `v1`: `{endpoint}/openai/v1/…` without an api-version; `versioned`: `{endpoint}/openai/…?api-version=…`. */
  kind: "v1" | "versioned";
  baseURL: string;
  /** Query parameters every request carries. */
  query: Record<string, string>;
  /** Whether uploads and batches may set file expiries (`expires_after`, `output_expires_after`). */
  fileExpiry: boolean;
}

const DATED_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
/** The first api-version whose documented samples set file expiries (az-docs batch-python.md). */
const FIRST_EXPIRY_PREVIEW = "2025-03-01";

/**
 * The API for a resource endpoint (as `AzureOpenAI`'s `endpoint`: `https://{resource}.openai.azure.com`) and an
 * api-version (`OPENAI_API_VERSION`). Without an api-version, or with "v1", the v1 API is used. Checked before
 * anything is sent.
 */
export function azureApi(endpoint: string | undefined, apiVersion: string | undefined): AzureApi {
  if (!endpoint) {
    throw new ValidationError(
      'No endpoint for provider "azure". Set the AZURE_OPENAI_ENDPOINT environment variable to your resource ' +
        "endpoint (https://<resource>.openai.azure.com) or pass providers.azure.baseURL. Nothing was sent.",
      "missing_endpoint",
    );
  }
  let root: string;
  try {
    root = new URL(endpoint).toString().replace(/\/+$/, "");
  } catch {
    throw new ValidationError(
      `The Azure OpenAI endpoint ${JSON.stringify(endpoint)} is not a URL; give the resource endpoint, ` +
        "https://<resource>.openai.azure.com.",
      "invalid_endpoint",
    );
  }
  if (apiVersion === undefined || apiVersion === "" || apiVersion === "v1") {
    return { kind: "v1", baseURL: `${root}/openai/v1`, query: {}, fileExpiry: true };
  }
  if (!DATED_VERSION.test(apiVersion)) {
    throw new ValidationError(
      `The Azure OpenAI api-version ${JSON.stringify(apiVersion)} is not one: give a dated version such as ` +
        '"2024-10-21" or "2025-04-01-preview" (OPENAI_API_VERSION or providers.azure.apiVersion), or none for the v1 API.',
      "invalid_api_version",
    );
  }
  const fileExpiry = apiVersion.endsWith("-preview") && apiVersion.slice(0, 10) >= FIRST_EXPIRY_PREVIEW;
  return { kind: "versioned", baseURL: `${root}/openai`, query: { "api-version": apiVersion }, fileExpiry };
}
