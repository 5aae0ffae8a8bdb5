import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { EmulatorClock } from "../clock.js";
import { FileStore } from "../files.js";
import { HttpError, type RouteContext, readBody, sendJson, sendLines } from "../http.js";
import { invalid, notFound, unknownField } from "./errors.js";
import { fileObject, type GeminiFile } from "./objects.js";
import { pageOf } from "./pages.js";

const HOUR_MS = 60 * 60_000;
/** Uploaded files are deleted after 48 hours. */
const UPLOAD_LIFETIME_MS = 48 * HOUR_MS;
/** Batch results "are stored and available for download for 6 weeks". */
const GENERATED_LIFETIME_MS = 42 * 24 * HOUR_MS;
/** "2GB" per file. */
export const MAX_FILE_BYTES = 2 * 1024 ** 3;
/** Every chunk but the last must be a multiple of this (Google's resumable uploads say so in a header). */
const GRANULARITY = 256 * 1024;
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
const MAX_DISPLAY_NAME = 512;

interface UploadSession {
  declaredBytes: number;
  mimeType: string;
  displayName: string | undefined;
  name: string | undefined;
  chunks: Buffer[];
  received: number;
  file?: GeminiFile;
  cancelled?: boolean;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

const fileId = () => {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(12), (byte) => alphabet[byte % alphabet.length]).join("");
};

/**
 * The Files API as batch work uses it: the resumable upload (start, upload, finalize, query, cancel), metadata,
 * listing, deletion and media download of generated files, under both download paths in use.
 */
export class GeminiFiles {
  private readonly store = new FileStore();
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly clock: EmulatorClock,
    /** The path the emulator mounts the provider under, e.g. "/gemini". */
    private readonly mount: string,
  ) {}

  /** A live file by resource name; expired files are gone, as at the API. */
  find(name: string): GeminiFile | undefined {
    const file = this.store.get(name) as GeminiFile | undefined;
    if (!file) return undefined;
    if (file.expiresAt <= this.clock.now()) {
      this.store.delete(name);
      return undefined;
    }
    return file;
  }

  get(name: string): GeminiFile {
    const file = this.find(name);
    if (!file)
      throw new HttpError(
        403,
        "PERMISSION_DENIED",
        `You do not have permission to access the File ${name.replace(/^files\//, "")} or it may not exist.`,
      );
    return file;
  }

  contentOf(file: GeminiFile): string {
    return file.data?.toString("utf8") ?? "";
  }

  /** A generated file whose lines are made when read. */
  putGenerated(name: string, lines: () => Iterable<string>, createdAt: number): GeminiFile {
    const file: GeminiFile = {
      id: name,
      filename: name,
      purpose: "batch",
      createdAt,
      bytes: -1,
      lines,
      mimeType: "application/jsonl",
      source: "GENERATED",
      expiresAt: createdAt + GENERATED_LIFETIME_MS,
      sha256: "",
    };
    this.store.put(file);
    return file;
  }

  private describe(file: GeminiFile, origin: string) {
    const bytes = this.store.sizeOf(file);
    if (file.sha256 === "") {
      const hash = createHash("sha256");
      for (const line of this.store.contentLines(file)) hash.update(`${line}\n`);
      file.sha256 = hash.digest("hex");
    }
    return fileObject(file, bytes, origin, this.mount);
  }

  /** `POST /upload/v1beta/files`: a session's start, or (with `upload_id`) one of its commands. */
  async upload(context: RouteContext): Promise<void> {
    const uploadId = context.url.searchParams.get("upload_id");
    if (uploadId) return this.continueUpload(context, uploadId);
    const { request, response } = context;
    if (
      header(request, "x-goog-upload-protocol") !== "resumable" ||
      header(request, "x-goog-upload-command") !== "start"
    ) {
      throw invalid(
        "Uploads take the resumable protocol: X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start.",
      );
    }
    const declared = Number(header(request, "x-goog-upload-header-content-length") ?? "");
    if (!Number.isInteger(declared) || declared < 0) {
      throw invalid("X-Goog-Upload-Header-Content-Length must give the file's size in bytes.");
    }
    if (declared > MAX_FILE_BYTES) throw invalid(`The file is ${declared} bytes; files may be at most 2 GB.`);
    const text = (await readBody(request, 64 * 1024)).toString("utf8");
    let body: unknown = {};
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        throw invalid("Invalid JSON payload received.");
      }
    }
    const metadata = this.fileMetadata(body);
    const mimeType = metadata.mimeType ?? header(request, "x-goog-upload-header-content-type");
    if (!mimeType) throw invalid("The file's MIME type is missing (X-Goog-Upload-Header-Content-Type).");
    const id = randomBytes(24).toString("base64url");
    this.sessions.set(id, {
      declaredBytes: declared,
      mimeType,
      displayName: metadata.displayName,
      name: metadata.name,
      chunks: [],
      received: 0,
    });
    const location = `${context.origin}${this.mount}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`;
    response.writeHead(200, {
      "x-goog-upload-url": location,
      "x-goog-upload-control-url": location,
      "x-goog-upload-status": "active",
      "x-goog-upload-chunk-granularity": String(GRANULARITY),
      "content-length": 0,
    });
    response.end();
  }

  private fileMetadata(body: unknown): { displayName?: string; mimeType?: string; name?: string } {
    const outer = body as Record<string, unknown>;
    for (const key of Object.keys(outer ?? {})) if (key !== "file") throw invalid(unknownField(key, ""));
    const file = (outer?.file ?? {}) as Record<string, unknown>;
    const known = new Set([
      "displayName",
      "display_name",
      "mimeType",
      "mime_type",
      "sizeBytes",
      "size_bytes",
      "name",
    ]);
    for (const key of Object.keys(file)) if (!known.has(key)) throw invalid(unknownField(key, "file"));
    const displayName = (file.displayName ?? file.display_name) as string | undefined;
    if (
      displayName !== undefined &&
      (typeof displayName !== "string" || displayName.length > MAX_DISPLAY_NAME)
    ) {
      throw invalid(`* CreateFileRequest.file.display_name: at most ${MAX_DISPLAY_NAME} characters.`);
    }
    const name = file.name === undefined ? undefined : String(file.name);
    if (name !== undefined && !/^files\/[a-z0-9-]{1,40}$/.test(name)) {
      throw invalid(
        "* CreateFileRequest.file.name: a name is files/ followed by up to 40 lowercase letters, digits or dashes.",
      );
    }
    if (name && this.find(name)) throw new HttpError(409, "ALREADY_EXISTS", `File ${name} already exists.`);
    const mimeType = (file.mimeType ?? file.mime_type) as string | undefined;
    return {
      ...(displayName === undefined ? {} : { displayName }),
      ...(mimeType === undefined ? {} : { mimeType: String(mimeType) }),
      ...(name === undefined ? {} : { name }),
    };
  }

  private async continueUpload({ request, response, origin }: RouteContext, uploadId: string): Promise<void> {
    const session = this.sessions.get(uploadId);
    if (!session) throw notFound("No upload session with that id.");
    const command = (header(request, "x-goog-upload-command") ?? "").split(",").map((part) => part.trim());
    const answer = (status: "active" | "final" | "cancelled") => {
      const headers = {
        "x-goog-upload-status": status,
        "x-goog-upload-size-received": String(session.received),
      };
      if (status === "final" && session.file)
        sendJson(response, 200, { file: this.describe(session.file, origin) }, headers);
      else {
        response.writeHead(200, { ...headers, "content-length": 0 });
        response.end();
      }
    };
    if (command.includes("query")) {
      await readBody(request, 0);
      return answer(session.file ? "final" : session.cancelled ? "cancelled" : "active");
    }
    if (command.includes("cancel")) {
      await readBody(request, 0);
      session.cancelled = true;
      return answer("cancelled");
    }
    if (session.file || session.cancelled) throw invalid("The upload session has ended.");
    const uploading = command.includes("upload");
    const finalizing = command.includes("finalize");
    if (!uploading && !finalizing) throw invalid(`Unknown X-Goog-Upload-Command "${command.join(", ")}".`);
    const offset = Number(header(request, "x-goog-upload-offset") ?? "");
    if (uploading && offset !== session.received) {
      await readBody(request, MAX_CHUNK_BYTES);
      throw invalid(`X-Goog-Upload-Offset is ${offset}, but ${session.received} bytes have been received.`);
    }
    const chunk = uploading ? await readBody(request, MAX_CHUNK_BYTES) : Buffer.alloc(0);
    if (uploading && !finalizing && chunk.length % GRANULARITY !== 0) {
      throw invalid(
        `Every chunk but the last must be a multiple of ${GRANULARITY} bytes; this one is ${chunk.length}.`,
      );
    }
    if (session.received + chunk.length > session.declaredBytes) {
      throw invalid(`The upload is longer than the ${session.declaredBytes} bytes declared.`);
    }
    session.chunks.push(chunk);
    session.received += chunk.length;
    if (!finalizing) return answer("active");
    if (session.received !== session.declaredBytes) {
      throw invalid(`The upload was finalized after ${session.received} of ${session.declaredBytes} bytes.`);
    }
    const data = Buffer.concat(session.chunks);
    session.chunks = [];
    const now = this.clock.now();
    const file: GeminiFile = {
      id: session.name ?? `files/${fileId()}`,
      filename: session.displayName ?? "",
      purpose: "batch",
      createdAt: now,
      bytes: data.length,
      data,
      mimeType: session.mimeType,
      source: "UPLOADED",
      expiresAt: now + UPLOAD_LIFETIME_MS,
      sha256: createHash("sha256").update(data).digest("hex"),
      ...(session.displayName === undefined ? {} : { displayName: session.displayName }),
    };
    this.store.put(file);
    session.file = file;
    answer("final");
  }

  /** `GET /v1beta/files/{id}`. */
  metadata({ response, params, origin }: RouteContext): void {
    sendJson(response, 200, this.describe(this.get(`files/${params.id}`), origin));
  }

  /** `GET /v1beta/files?pageSize&pageToken`: at most 100 a page, 10 when no size is given. */
  list({ response, url, origin }: RouteContext): void {
    const live = this.store.list().flatMap((file) => this.find(file.id) ?? []);
    const listed = live.map((file) => ({ name: file.id, createdAt: file.createdAt, file }));
    const page = pageOf(listed, url.searchParams, { defaultSize: 10, max: 100 });
    const files = (page?.items ?? []).map((item) => this.describe(item.file, origin));
    sendJson(response, 200, {
      ...(files.length > 0 ? { files } : {}),
      ...(page?.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  }

  /** `DELETE /v1beta/files/{id}`. */
  remove({ response, params }: RouteContext): void {
    const file = this.get(`files/${params.id}`);
    this.store.delete(file.id);
    sendJson(response, 200, {});
  }

  /** `GET …/files/{id}:download?alt=media`: the bytes of a generated file (uploaded ones cannot be downloaded). */
  async download({ response, params, url }: RouteContext): Promise<void> {
    const file = this.get(`files/${params.id}`);
    if (url.searchParams.get("alt") !== "media") throw invalid("Downloading a file takes alt=media.");
    if (file.source !== "GENERATED")
      throw invalid(`Only generated files can be downloaded; ${file.id} was uploaded.`);
    await sendLines(response, this.store.contentLines(file), "application/jsonl");
  }
}
