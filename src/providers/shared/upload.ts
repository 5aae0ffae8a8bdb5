import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { readText } from "./http.js";
import { asObject, asString } from "./json.js";
import { multipartFileBody } from "./multipart.js";
import type { RestClient } from "./rest-client.js";

/**
 * Uploads a file with a multipart POST, streamed from disk over node:http (Node 20's fetch would hold the whole
 * body in memory), and returns the file ID from the answer. Retried on 429/5xx and lost connections: a repeated
 * upload at worst leaves an unused file at the provider, never a second batch.
 */
export async function uploadMultipartFile(
  client: RestClient,
  options: {
    /** The upload route, relative to the client's base URL. */
    route: string;
    filePath: string;
    fields: Record<string, string>;
    contentType: string;
  },
): Promise<string> {
  const { size } = await stat(options.filePath);
  const { headers, body } = multipartFileBody({
    fields: options.fields,
    fileField: "file",
    fileName: basename(options.filePath),
    path: options.filePath,
    size,
    contentType: options.contentType,
  });
  const text = await client.withRetries(async () =>
    readText(await client.request("POST", client.url(options.route), { headers, body })),
  );
  const id = asString(asObject(JSON.parse(text))?.id);
  if (!id) throw new Error("the upload was answered without a file id");
  return id;
}
