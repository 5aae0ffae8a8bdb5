import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { HttpConnectionError, readText } from "../shared/http.js";
import { asObject, asString, type JsonObject } from "../shared/json.js";
import type { RestClient } from "../shared/rest-client.js";

/**
 * The Files API's resumable upload (what @google/genai does): a `start` call that answers with a session URL,
 * then the bytes in chunks, the last one with `finalize`. Each chunk is streamed from disk; a chunk that fails
 * is retried after asking the session how much it has (`query`), so a large file is never sent from the start
 * again. Uploading twice at worst leaves an unused file (they are deleted after 48 hours), never a batch.
 */

const MIME_TYPE = "application/jsonl";
/** @google/genai sends 8 MiB chunks; every chunk but the last must be a multiple of the session's granularity. */
const CHUNK_BYTES = 8 * 1024 * 1024;

interface Session {
  url: URL;
  chunkBytes: number;
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/**
 * The session URL as the API gave it, but on the base URL's protocol, host and port, as @google/genai does: the
 * API names its own host, which a proxy or the emulator in front of it must not be bypassed for.
 */
function onBaseHost(location: string, baseURL: string): URL {
  const url = new URL(location, baseURL);
  const base = new URL(baseURL);
  url.protocol = base.protocol;
  url.host = base.host;
  url.port = base.port;
  return url;
}

async function startSession(rest: RestClient, baseURL: string, size: number, displayName: string) {
  const body = JSON.stringify({ file: { displayName, mimeType: MIME_TYPE, sizeBytes: String(size) } });
  const response = await rest.request("POST", rest.url("/upload/v1beta/files"), {
    headers: {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-header-content-length": String(size),
      "x-goog-upload-header-content-type": MIME_TYPE,
    },
    body,
  });
  response.resume();
  const location = header(response, "x-goog-upload-url");
  if (!location) throw new Error("the upload was started without an x-goog-upload-url to send the bytes to");
  const granularity = Number(header(response, "x-goog-upload-chunk-granularity") ?? "");
  const chunkBytes =
    Number.isInteger(granularity) && granularity > 0
      ? Math.max(granularity, Math.floor(CHUNK_BYTES / granularity) * granularity)
      : CHUNK_BYTES;
  return { url: onBaseHost(location, baseURL), chunkBytes };
}

/** The uploaded file when the session says it is final, else null; an answer without a status is a fault. */
async function fileOf(response: IncomingMessage): Promise<JsonObject | null> {
  const status = header(response, "x-goog-upload-status");
  if (status === "final") {
    const file = asObject(asObject(JSON.parse(await readText(response)))?.file);
    if (!file) throw new Error("the finalised upload was answered without a file");
    return file;
  }
  response.resume();
  if (status === "active") return null;
  if (status === "cancelled") throw new Error("the upload session was cancelled");
  // @google/genai retries a chunk whose answer has no status; so does Relay.
  throw new HttpConnectionError("the upload answer carried no x-goog-upload-status");
}

/** Uploads a JSONL file and returns its resource name (`files/…`). The file is read from disk, never whole. */
export async function uploadJsonlFile(
  rest: RestClient,
  baseURL: string,
  path: string,
  displayName: string,
): Promise<string> {
  const { size } = await stat(path);
  const session: Session = await rest.withRetries(() => startSession(rest, baseURL, size, displayName));
  let offset = 0;
  let lost = false;
  let file: JsonObject | null = null;
  while (!file) {
    file = await rest.withRetries(async () => {
      if (lost) {
        // Where the session stands: what it received is kept, whatever happened to the answer.
        const answer = await rest.request("POST", session.url, {
          headers: { "x-goog-upload-command": "query", "content-length": 0 },
        });
        const received = Number(header(answer, "x-goog-upload-size-received") ?? "");
        const done = await fileOf(answer);
        lost = false;
        if (done) return done;
        if (Number.isInteger(received) && received >= 0 && received <= size) offset = received;
      }
      const end = Math.min(size, offset + session.chunkBytes);
      const start = offset;
      try {
        const answer = await rest.request("POST", session.url, {
          headers: {
            "x-goog-upload-command": end === size ? "upload, finalize" : "upload",
            "x-goog-upload-offset": String(start),
            "content-length": end - start,
          },
          body: () => createReadStream(path, { start, end: end - 1 }),
        });
        const done = await fileOf(answer);
        if (!done && end === size) throw new Error("every byte was sent but the upload was not finalised");
        offset = end;
        return done;
      } catch (error) {
        lost = true;
        throw error;
      }
    });
  }
  const name = asString(file.name);
  if (!name) throw new Error("the upload was answered with a file without a name");
  return name;
}
