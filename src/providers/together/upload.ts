import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { HttpStatusError, readText, send } from "../shared/http.js";
import { asObject, asString } from "../shared/json.js";
import { multipartFileBody } from "../shared/multipart.js";
import { apiError, type RestClient } from "../shared/rest-client.js";

const PURPOSE = "batch-api";
const FILE_TYPE = "jsonl";

/*
 * Which upload route comes first: the presigned-URL flow that Together's own SDK helpers use for real uploads
 * (POST /files?… answered 302 with `Location` and `x-together-file-id`, then PUT the bytes to Location, then
 * GET /files/{id}). The bytes go straight to object storage with a known length, so a file of any size streams
 * from disk and a failed PUT can simply be sent again. The multipart POST /files/upload that the OpenAPI spec
 * documents is the fallback, for a server that does not answer the first step with a redirect (404, 405, or a
 * response without the two headers): it sends the bytes through the API server itself.
 */

/** Uploads a JSONL batch input file and returns its file ID. Reads the file from disk as a stream, never whole. */
export async function uploadBatchFile(client: RestClient, path: string, fileName: string): Promise<string> {
  const { size } = await stat(path);
  const target = await client.withRetries(() => requestUploadUrl(client, fileName));
  const fileId = target
    ? await putBytes(client, target, path, size)
    : await client.withRetries(() => multipartUpload(client, path, size, fileName));
  // Confirms that the provider knows the file (the SDK helper does the same) before a batch refers to it.
  await client.call("GET", `/files/${encodeURIComponent(fileId)}`, { retry: true });
  return fileId;
}

interface UploadTarget {
  location: URL;
  fileId: string;
}

function header(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim() || undefined;
}

/** Step 1 of the presigned flow; null when the server does not offer it. */
async function requestUploadUrl(client: RestClient, fileName: string): Promise<UploadTarget | null> {
  const params = { file_name: fileName, file_type: FILE_TYPE, purpose: PURPOSE };
  const url = client.url("/files", params);
  // The SDK helper sends the parameters both in the query and as a form body; so does Relay.
  const body = new URLSearchParams(params).toString();
  let response: Awaited<ReturnType<RestClient["request"]>>;
  try {
    response = await client.request("POST", url, {
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(body),
      },
      body,
    });
  } catch (error) {
    if (error instanceof HttpStatusError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
  response.resume();
  const status = response.statusCode ?? 0;
  const location = header(response.headers.location);
  const fileId = header(response.headers["x-together-file-id"]);
  if (status < 300 || status >= 400 || !location || !fileId) return null;
  return { location: new URL(location, url), fileId };
}

/** Step 2: the bytes to the presigned URL, which carries its own authorisation (so no bearer token is sent). */
async function putBytes(
  client: RestClient,
  target: UploadTarget,
  path: string,
  size: number,
): Promise<string> {
  await client.withRetries(async () => {
    const response = await send({
      method: "PUT",
      url: target.location,
      headers: { "content-type": "application/octet-stream", "content-length": size },
      body: () => createReadStream(path),
      timeoutMs: client.timeoutMs,
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw await apiError(response);
    response.resume();
  });
  return target.fileId;
}

/** The documented multipart upload, streamed: fields, then the file from disk, then the closing boundary. */
async function multipartUpload(
  client: RestClient,
  path: string,
  size: number,
  fileName: string,
): Promise<string> {
  const { headers, body } = multipartFileBody({
    fields: { purpose: PURPOSE, file_name: fileName, file_type: FILE_TYPE },
    fileField: "file",
    fileName,
    path,
    size,
    contentType: "application/octet-stream",
  });
  const response = await client.request("POST", client.url("/files/upload"), { headers, body });
  const text = await readText(response);
  const id = asString(asObject(safeParse(text))?.id);
  if (!id) throw new Error(`the multipart upload answered HTTP ${response.statusCode} without a file id`);
  return id;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
