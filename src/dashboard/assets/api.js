// @ts-check
/** The dashboard's JSON API, as the page calls it. */

let sessionToken = "";

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @param {Response} response */
async function answer(response) {
  /** @type {any} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    // A refusal in plain text, or nothing.
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      body?.error?.code ?? "http_error",
      body?.error?.message ?? response.statusText,
    );
  }
  return body;
}

/**
 * The session: the token that actions carry, and what the page needs to know about the server.
 * @returns {Promise<any>}
 */
export async function startSession() {
  const session = await getJson("/api/session");
  sessionToken = session.sessionToken;
  return session;
}

/** @param {string} path @returns {Promise<any>} */
export async function getJson(path) {
  return answer(await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin" }));
}

/** An action: a POST with a JSON body and the session token. @param {string} path @param {object} [body] */
export async function postJson(path, body = {}) {
  return answer(
    await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "x-relay-token": sessionToken,
      },
      body: JSON.stringify(body),
    }),
  );
}

/** @param {string} jobId */
export const jobPath = (jobId) => `/api/jobs/${encodeURIComponent(jobId)}`;
