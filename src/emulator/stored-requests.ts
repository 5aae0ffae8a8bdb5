import { closeSync, openSync, readSync } from "node:fs";
import type { RequestList, RequestRejection, SimRequest } from "./engine.js";
import type { RequestFate } from "./fates.js";
import type { ReplyPlan } from "./reply.js";

const WINDOW_BYTES = 256 * 1024;

/**
 * A batch's requests left in its input file on disk: in memory, only where each one's line lies, its fate and
 * whether its parameters are refused (what a batch's counts need), about 14 bytes a request. A request is read and
 * parsed from its line when it is asked for (results are generated from the file, never kept); the last one
 * read is kept, so that reading its fields one by one parses its line once.
 */
export class StoredRequests implements RequestList {
  /** The fates met so far; a request keeps the index of its own. */
  private readonly fateNames: RequestFate[] = [];
  private count = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private fates = new Uint8Array(1024);
  private refused = new Uint8Array(1024);
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  private lastIndex = -1;
  private last: SimRequest | undefined;

  constructor(
    /** The file, which must stay unchanged while the batch lives. */
    public path: string,
    /** A line's request, with the fate it was given when the batch was created. */
    private readonly parse: (line: string, fate: RequestFate) => SimRequest,
  ) {}

  get length(): number {
    return this.count;
  }

  /**
   * The request at `index` as SimulatedBatch takes it: a short-lived view that reads its line when a field is asked
   * for (no object is kept per request: at millions of requests, their number alone would slow every collection).
   */
  at(index: number): SimRequest | undefined {
    return index >= 0 && index < this.count ? new StoredRequest(this, index) : undefined;
  }

  /** Reads from now on from a copy (or link) of the same file. */
  relocate(path: string): void {
    this.path = path;
  }

  /** Records the next request, read from the line at `offset` (`bytes` long, newline excluded). */
  add(request: SimRequest, offset: number, bytes: number): void {
    const index = this.count;
    if (index === this.offsets.length) this.grow();
    this.offsets[index] = offset;
    this.lengths[index] = bytes;
    let fate = this.fateNames.indexOf(request.fate);
    if (fate === -1) fate = this.fateNames.push(request.fate) - 1;
    this.fates[index] = fate;
    this.refused[index] = request.rejection ? 1 : 0;
    this.count += 1;
  }

  fateOf(index: number): RequestFate {
    return this.fateNames[this.fates[index] as number] as RequestFate;
  }

  isRefused(index: number): boolean {
    return this.refused[index] === 1;
  }

  /** The request at `index`, parsed from its line. */
  read(index: number): SimRequest {
    if (index === this.lastIndex && this.last) return this.last;
    const offset = this.offsets[index] as number;
    const bytes = this.lengths[index] as number;
    if (offset < this.windowStart || offset + bytes > this.windowStart + this.window.length) {
      // Result files list requests backwards, then forwards: the window is read in the direction of travel.
      const size = Math.max(WINDOW_BYTES, bytes);
      const start = index < this.lastIndex ? Math.max(0, offset + bytes - size) : offset;
      this.window = readAt(this.path, start, size);
      this.windowStart = start;
    }
    const at = offset - this.windowStart;
    const request = this.parse(this.window.toString("utf8", at, at + bytes), this.fateOf(index));
    this.lastIndex = index;
    this.last = request;
    return request;
  }

  private grow(): void {
    const size = this.offsets.length * 2;
    const grown = <T extends Float64Array | Uint32Array | Uint8Array>(array: T, next: T): T => {
      next.set(array);
      return next;
    };
    this.offsets = grown(this.offsets, new Float64Array(size));
    this.lengths = grown(this.lengths, new Uint32Array(size));
    this.fates = grown(this.fates, new Uint8Array(size));
    this.refused = grown(this.refused, new Uint8Array(size));
  }
}

function readAt(path: string, start: number, size: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(size);
    return buffer.subarray(0, readSync(fd, buffer, 0, size, start));
  } finally {
    closeSync(fd);
  }
}

/** One request of a StoredRequests table; fate and refusal come from the table, the rest from its line. */
class StoredRequest implements SimRequest {
  constructor(
    private readonly table: StoredRequests,
    private readonly index: number,
  ) {}

  get customId(): string {
    return this.table.read(this.index).customId;
  }

  get model(): string {
    return this.table.read(this.index).model;
  }

  get promptText(): string {
    return this.table.read(this.index).promptText;
  }

  get maxTokens(): number | undefined {
    return this.table.read(this.index).maxTokens;
  }

  get fate(): RequestFate {
    return this.table.fateOf(this.index);
  }

  get rejection(): RequestRejection | undefined {
    return this.table.isRefused(this.index) ? this.table.read(this.index).rejection : undefined;
  }

  get echo(): Record<string, unknown> | undefined {
    return this.table.read(this.index).echo;
  }

  get reply(): ReplyPlan | undefined {
    return this.table.read(this.index).reply;
  }
}
