import { ValidationError } from "../../errors.js";

/**
 * For providers whose batches Relay runs on one endpoint only: that endpoint when none or it is asked for, else a
 * ValidationError before anything is sent.
 */
export function checkOnlyEndpoint(displayName: string, only: string, endpoint: string | null): string {
  const chosen = endpoint ?? only;
  if (chosen !== only) {
    throw new ValidationError(
      `${displayName} batches in Relay support the endpoint ${only}, not "${chosen}".`,
      "unsupported_endpoint",
    );
  }
  return chosen;
}
