import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { OutgoingHttpHeaders } from "node:http";
import { Readable } from "node:stream";

/**
 * A multipart/form-data body of text fields and one file, streamed from disk with a known length (so the upload
 * stays flat in memory and can be sent again from the start on a retry).
 */
export function multipartFileBody(options: {
  fields: Record<string, string>;
  fileField: string;
  fileName: string;
  path: string;
  size: number;
  contentType: string;
}): { headers: OutgoingHttpHeaders; body: () => Readable } {
  const boundary = `relay-${randomBytes(12).toString("hex")}`;
  const quoted = options.fileName.replace(/["\r\n\\]/g, "_");
  const fields = Object.entries(options.fields)
    .map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    )
    .join("");
  const head = Buffer.from(
    `${fields}--${boundary}\r\nContent-Disposition: form-data; name="${options.fileField}"; filename="${quoted}"\r\n` +
      `Content-Type: ${options.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts() {
    yield head;
    yield* createReadStream(options.path);
    yield tail;
  }
  return {
    headers: {
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": head.length + options.size + tail.length,
      accept: "application/json",
    },
    body: () => Readable.from(parts()),
  };
}
