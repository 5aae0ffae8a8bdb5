/** Azure's error body (the Cognitive Services shape): `{"error": {"code", "message"}}`. */
export function azureErrorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** What Azure answers for a path it does not serve, or a versioned request without an api-version. */
export const RESOURCE_NOT_FOUND = azureErrorBody("404", "Resource not found");

export const MISSING_KEY_MESSAGE =
  "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";

export const INVALID_KEY_MESSAGE =
  "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an " +
  "active subscription and use a correct regional API endpoint for your resource.";
