import { randomBytes, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { EmulatorClock } from "../clock.js";
import { FileStore } from "../files.js";
import { HttpError, parseMultipart, type RouteContext, readBody, sendJson, sendLines } from "../http.js";
import { DetailList, enumMessage } from "./errors.js";
import { uuidParam } from "./input.js";
import { FILE_PURPOSES, fileObject, type MistralFile, SAMPLE_TYPES, SOURCES } from "./objects.js";
import { Query } from "./query.js";

/** "The size of individual files can be a maximum of 512 MB." */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
const HOUR_MS = 60 * 60_000;

function mimetypeOf(filename: string, sent: string | undefined): string | null {
  if (filename.toLowerCase().endsWith(".jsonl")) return "application/jsonl";
  return sent && sent !== "application/octet-stream" ? sent : null;
}

function countLines(data: Buffer): number {
  let lines = 0;
  for (const line of data.toString("utf8").split("\n")) if (line.trim() !== "") lines += 1;
  return lines;
}

/** Mistral's Files API: multipart upload, paged listing with filters, metadata, content, signed URLs. */
export class MistralFiles {
  private readonly store = new FileStore();
  /** Signed download URLs: the path segment handed out by `GET /v1/files/{id}/url`, per file and expiry. */
  private readonly signed = new Map<string, { fileId: string; until: number }>();

  constructor(
    private readonly clock: EmulatorClock,
    /** The path prefix the emulator mounts this provider under, e.g. "/mistral". */
    private readonly mount: string,
  ) {}

  get(id: string | undefined, name = "file_id"): MistralFile {
    const fileId = uuidParam(id, name);
    const file = this.store.get(fileId) as MistralFile | undefined;
    if (!file) throw new HttpError(404, "not_found", `File ${fileId} not found`);
    return file;
  }

  put(file: Omit<MistralFile, "id" | "createdAt">): MistralFile {
    const stored: MistralFile = { ...file, id: randomUUID(), createdAt: this.clock.now() };
    this.store.put(stored);
    return stored;
  }

  /** The file's lines (for reading a batch's input). */
  contentLines(file: MistralFile): Iterable<string> {
    return this.store.contentLines(file);
  }

  private object(file: MistralFile) {
    return fileObject(file, this.store.sizeOf(file));
  }

  /** `POST /v1/files`, multipart: `file` (required), `purpose`, `expiry` (hours), `visibility`. */
  async upload({ request, response }: RouteContext): Promise<void> {
    const parts = parseMultipart(
      await readBody(request, MAX_FILE_BYTES + 1024 * 1024),
      request.headers["content-type"],
    );
    const field = (name: string) => parts.find((part) => part.name === name);
    const text = (name: string) => field(name)?.data.toString("utf8");
    const details = new DetailList();
    const filePart = field("file");
    if (!filePart || filePart.filename === undefined)
      details.add("missing", ["body", "file"], "Field required");
    const purpose = text("purpose") ?? "fine-tune";
    if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) {
      details.add("enum", ["body", "purpose"], enumMessage(FILE_PURPOSES), purpose);
    }
    const visibility = text("visibility") ?? "workspace";
    if (visibility !== "workspace" && visibility !== "user") {
      details.add("enum", ["body", "visibility"], enumMessage(["workspace", "user"]), visibility);
    }
    const expiry = text("expiry");
    if (expiry !== undefined && expiry !== "" && !/^\d+$/.test(expiry)) {
      details.add(
        "int_parsing",
        ["body", "expiry"],
        "Input should be a valid integer, unable to parse string as an integer",
        expiry,
      );
    }
    details.throwIfAny();
    const data = (filePart as NonNullable<typeof filePart>).data;
    if (data.length > MAX_FILE_BYTES) {
      throw new HttpError(413, "file_too_large", "The file is larger than the maximum of 512 MB.");
    }
    const filename = filePart?.filename || "file";
    const now = this.clock.now();
    const file = this.put({
      filename,
      purpose,
      bytes: data.length,
      data,
      sampleType: purpose === "batch" ? "batch_request" : "instruct",
      source: "upload",
      mimetype: mimetypeOf(filename, filePart?.contentType),
      numLines: countLines(data),
      signature: randomBytes(8).toString("hex"),
      expiresAt: expiry ? now + Number(expiry) * HOUR_MS : null,
      visibility: visibility as MistralFile["visibility"],
    });
    sendJson(response, 200, this.object(file));
  }

  /** `GET /v1/files`: newest first, `page` from 0, `page_size` (100), filters, `total` unless include_total=false. */
  list({ response, url }: RouteContext): void {
    const details = new DetailList();
    const query = new Query(url.searchParams, details);
    const page = query.integer("page", 0, 0);
    const pageSize = query.integer("page_size", 100, 1);
    const includeTotal = query.boolean("include_total") ?? true;
    const sampleTypes = query.list("sample_type", SAMPLE_TYPES);
    const sources = query.list("source", SOURCES);
    const mimetypes = query.list("mimetypes");
    const search = query.string("search");
    const purpose = query.string("purpose");
    if (purpose !== null && !(FILE_PURPOSES as readonly string[]).includes(purpose)) {
      details.add("enum", ["query", "purpose"], enumMessage(FILE_PURPOSES), purpose);
    }
    details.throwIfAny();
    const now = this.clock.now();
    const matching = (this.store.list() as MistralFile[])
      .filter((file) => file.expiresAt === null || file.expiresAt > now)
      .filter((file) => sampleTypes.length === 0 || sampleTypes.includes(file.sampleType))
      .filter((file) => sources.length === 0 || sources.includes(file.source))
      .filter(
        (file) => mimetypes.length === 0 || (file.mimetype !== null && mimetypes.includes(file.mimetype)),
      )
      .filter((file) => purpose === null || file.purpose === purpose)
      .filter((file) => search === null || file.filename.includes(search))
      .reverse();
    const data = matching.slice(page * pageSize, (page + 1) * pageSize).map((file) => this.object(file));
    sendJson(response, 200, { data, object: "list", total: includeTotal ? matching.length : null });
  }

  retrieve({ response, params }: RouteContext): void {
    sendJson(response, 200, { ...this.object(this.get(params.id)), deleted: false });
  }

  delete({ response, params }: RouteContext): void {
    const file = this.get(params.id);
    this.store.delete(file.id);
    sendJson(response, 200, { id: file.id, object: "file", deleted: true });
  }

  /** `GET /v1/files/{id}/content`: the bytes as uploaded, or the lines of a generated result file. */
  content({ response, params }: RouteContext): Promise<void> {
    return this.send(response, this.get(params.id));
  }

  /** `GET /v1/files/{id}/url?expiry=<hours, 24>` → `{url}`: a download URL that needs no key until it expires. */
  signedUrl({ response, params, url, origin }: RouteContext): void {
    const file = this.get(params.id);
    const details = new DetailList();
    const hours = new Query(url.searchParams, details).integer("expiry", 24, 1);
    details.throwIfAny();
    const token = randomBytes(16).toString("hex");
    this.signed.set(token, { fileId: file.id, until: this.clock.now() + hours * HOUR_MS });
    sendJson(response, 200, { url: `${origin}${this.mount}/signed/${token}` });
  }

  /** The download behind a signed URL. */
  signedContent({ response, params }: RouteContext): Promise<void> {
    const grant = this.signed.get(params.token ?? "");
    const file = grant && grant.until > this.clock.now() ? this.store.get(grant.fileId) : undefined;
    if (!file) throw new HttpError(403, "forbidden", "The signed URL is not valid or has expired.");
    return this.send(response, file as MistralFile);
  }

  private async send(response: ServerResponse, file: MistralFile): Promise<void> {
    if (file.data) {
      response.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": file.data.length,
      });
      response.end(file.data);
      return;
    }
    await sendLines(response, this.contentLines(file));
  }
}
