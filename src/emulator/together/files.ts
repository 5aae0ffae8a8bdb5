import { randomBytes, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { EmulatorClock } from "../clock.js";
import { FileStore } from "../files.js";
import { HttpError, parseMultipart, type RouteContext, readBody, sendJson, sendLines } from "../http.js";
import { fileObject, type TogetherFile } from "./objects.js";

export const MAX_FILE_BYTES = 100 * 1024 * 1024;
const PURPOSES = new Set([
  "fine-tune",
  "eval",
  "eval-sample",
  "eval-output",
  "eval-summary",
  "batch-generated",
  "batch-api",
]);
const FILE_TYPES = new Set(["jsonl", "csv", "parquet"]);

/** Together's Files API: the presigned three-step upload, the multipart upload, and reading files back. */
export class TogetherFiles {
  private readonly store = new FileStore();
  /** Presigned-upload tokens: the path segment of the PUT URL handed out in `Location`, per file. */
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly clock: EmulatorClock,
    /** The path prefix the emulator mounts this provider under, e.g. "/together". */
    private readonly mount: string,
  ) {}

  get(id: string | undefined): TogetherFile {
    const file = id ? (this.store.get(id) as TogetherFile | undefined) : undefined;
    if (!file) throw new HttpError(404, "not_found", `File ${id} not found`);
    return file;
  }

  put(file: Omit<TogetherFile, "id" | "createdAt">): TogetherFile {
    const stored: TogetherFile = { ...file, id: `file-${randomUUID()}`, createdAt: this.clock.now() };
    this.store.put(stored);
    return stored;
  }

  contentLines(file: TogetherFile): Iterable<string> {
    return this.store.contentLines(file);
  }

  /** Step 1: `POST /v1/files?file_name&file_type&purpose` (also as a form body) → 302 to a URL for the bytes. */
  async requestUpload({ request, response, url, origin }: RouteContext): Promise<void> {
    const form = new URLSearchParams((await readBody(request, 64 * 1024)).toString("utf8"));
    const param = (name: string) => url.searchParams.get(name) ?? form.get(name) ?? undefined;
    const { filename, purpose, fileType } = checkFields(
      param("file_name"),
      param("purpose"),
      param("file_type"),
    );
    const file = this.put({ filename, purpose, fileType, bytes: 0, uploaded: false });
    const token = randomBytes(16).toString("hex");
    this.tokens.set(token, file.id);
    response.writeHead(302, {
      location: `${origin}${this.mount}/upload/${token}`,
      "x-together-file-id": file.id,
      "content-length": 0,
    });
    response.end();
  }

  /** Step 2: the PUT to the presigned URL. The token is the authorisation; it may be used again, as S3's may. */
  async receiveBytes({ request, response, params }: RouteContext): Promise<void> {
    const fileId = this.tokens.get(params.token ?? "");
    if (!fileId) throw new HttpError(403, "access_denied", "The upload URL is not valid.");
    const data = await readBody(request, MAX_FILE_BYTES);
    const file = this.get(fileId);
    file.data = data;
    file.bytes = data.length;
    file.uploaded = true;
    response.writeHead(200, { etag: `"${randomBytes(8).toString("hex")}"`, "content-length": 0 });
    response.end();
  }

  /** `POST /v1/files/upload`, multipart: purpose, file_name, file_type (optional), file. */
  async uploadMultipart({ request, response }: RouteContext): Promise<void> {
    const parts = parseMultipart(
      await readBody(request, MAX_FILE_BYTES + 1024 * 1024),
      request.headers["content-type"],
    );
    const field = (name: string) => parts.find((part) => part.name === name);
    const text = (name: string) => field(name)?.data.toString("utf8");
    const data = field("file")?.data;
    if (!data) throw new HttpError(400, "missing_field", "Missing required field: file");
    if (data.length > MAX_FILE_BYTES)
      throw new HttpError(413, "file_too_large", "Files may be at most 100 MB.");
    const { filename, purpose, fileType } = checkFields(
      text("file_name"),
      text("purpose"),
      text("file_type"),
    );
    const file = this.put({ filename, purpose, fileType, bytes: data.length, data, uploaded: true });
    sendJson(response, 200, fileObject(file));
  }

  list(response: ServerResponse): void {
    sendJson(response, 200, { data: this.store.list().map((file) => fileObject(file as TogetherFile)) });
  }

  retrieve(response: ServerResponse, id: string | undefined): void {
    sendJson(response, 200, fileObject(this.get(id)));
  }

  content(response: ServerResponse, id: string | undefined): Promise<void> {
    return sendLines(response, this.contentLines(this.get(id)));
  }

  delete(response: ServerResponse, id: string | undefined): void {
    const file = this.get(id);
    this.store.delete(file.id);
    sendJson(response, 200, { id: file.id, deleted: true });
  }
}

function checkFields(
  filename: string | undefined,
  purpose: string | undefined,
  fileType: string | undefined,
): { filename: string; purpose: string; fileType: TogetherFile["fileType"] } {
  if (!filename) throw new HttpError(400, "missing_field", "Missing required field: file_name");
  if (!purpose || !PURPOSES.has(purpose)) {
    throw new HttpError(400, "invalid_purpose", `Invalid purpose ${JSON.stringify(purpose ?? null)}`);
  }
  const type = fileType ?? "jsonl";
  if (!FILE_TYPES.has(type))
    throw new HttpError(400, "invalid_file_type", `Invalid file_type ${JSON.stringify(type)}`);
  return { filename, purpose, fileType: type as TogetherFile["fileType"] };
}
