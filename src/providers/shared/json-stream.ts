/**
 * Reads one JSON document from a stream without ever holding chosen arrays whole: the elements of the arrays at
 * the given paths are yielded one by one as they complete, and the rest of the document is yielded last, with
 * those arrays left empty. Used for provider answers that carry many results inside one JSON object.
 *
 * It works on the bytes: JSON's structure is ASCII, so only the parts kept are decoded, and strings are crossed
 * with indexOf rather than byte by byte.
 */

export type JsonPath = readonly string[];

export type JsonStreamEvent =
  /** One element of the array at `paths[path]`. */
  | { kind: "element"; path: number; value: unknown }
  /** The whole document with the arrays at `paths` emptied; always the last event. */
  | { kind: "document"; value: unknown };

interface Frame {
  array: boolean;
  /** The key last read (objects only). */
  key: string | null;
  expectKey: boolean;
  /** Keys from the root to this container ("[]" for an array level). */
  path: string[];
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COLON = 58;
const COMMA = 44;
/** Not yet looked for in this chunk (-1 means: looked for, and not there). */
const UNKNOWN = -2;

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function samePath(a: readonly string[], b: JsonPath): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index]);
}

const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString("utf8");

class Scanner {
  readonly ready: JsonStreamEvent[] = [];
  private readonly stack: Frame[] = [];
  /** The document outside the target arrays (copied: chunks must not be held for the whole document). */
  private readonly outside: Uint8Array[] = [];
  private inString = false;
  private escaped = false;
  private key: Uint8Array[] | null = null;
  /** Index in `paths` of the array being read element by element, or -1. */
  private target = -1;
  private depth = 0;
  private inElement = false;
  /** The bytes of the element being read, or null when it is skimmed (not wanted). */
  private element: Uint8Array[] | null = null;
  private nextQuote = UNKNOWN;
  private nextBackslash = UNKNOWN;

  constructor(
    private readonly paths: readonly JsonPath[],
    private readonly wants: (path: number) => boolean,
  ) {}

  /** The index of the quote that ends the string being crossed, or -1 when it goes on past this chunk. */
  private endOfString(bytes: Uint8Array, from: number): number {
    let at = from;
    if (this.escaped) {
      if (at >= bytes.length) return -1;
      this.escaped = false;
      at += 1;
    }
    for (;;) {
      if (this.nextQuote !== -1 && this.nextQuote < at) this.nextQuote = bytes.indexOf(QUOTE, at);
      if (this.nextBackslash !== -1 && this.nextBackslash < at)
        this.nextBackslash = bytes.indexOf(BACKSLASH, at);
      const backslash = this.nextBackslash;
      if (backslash === -1 || (this.nextQuote !== -1 && this.nextQuote < backslash)) return this.nextQuote;
      if (backslash + 1 >= bytes.length) {
        this.escaped = true;
        return -1;
      }
      at = backslash + 2;
    }
  }

  feed(bytes: Uint8Array): void {
    this.nextQuote = UNKNOWN;
    this.nextBackslash = UNKNOWN;
    let outsideFrom = this.target < 0 ? 0 : -1;
    let elementFrom = this.element ? 0 : -1;
    let keyFrom = this.key ? 0 : -1;
    for (let index = 0; index < bytes.length; index += 1) {
      if (this.inString) {
        const end = this.endOfString(bytes, index);
        if (end === -1) break;
        index = end;
        this.inString = false;
        if (this.key) {
          this.key.push(bytes.subarray(keyFrom, end));
          const top = this.stack.at(-1);
          if (top) top.key = JSON.parse(`"${text(this.key)}"`) as string;
          this.key = null;
          keyFrom = -1;
        }
        continue;
      }
      const code = bytes[index] as number;
      if (this.target >= 0) {
        // Inside a target array: only nesting and strings matter, to find where each element ends.
        if (code === CLOSE_BRACKET && this.depth === 0) {
          if (this.inElement) this.finishElement(bytes.subarray(elementFrom, index));
          elementFrom = -1;
          this.target = -1;
          this.stack.pop();
          outsideFrom = index;
          continue;
        }
        if (code === COMMA && this.depth === 0) {
          if (this.inElement) this.finishElement(bytes.subarray(elementFrom, index));
          elementFrom = -1;
          continue;
        }
        if (isSpace(code) && !this.inElement) continue;
        if (!this.inElement) {
          this.inElement = true;
          this.element = this.wants(this.target) ? [] : null;
          elementFrom = this.element ? index : -1;
        }
        if (code === QUOTE) this.inString = true;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth += 1;
        else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
          this.depth -= 1;
          if (this.depth === 0) {
            this.finishElement(bytes.subarray(elementFrom, index + 1));
            elementFrom = -1;
          }
        }
        continue;
      }
      const top = this.stack.at(-1);
      if (code === QUOTE) {
        this.inString = true;
        if (top && !top.array && top.expectKey) {
          this.key = [];
          keyFrom = index + 1;
        }
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        const array = code === OPEN_BRACKET;
        const path = top ? [...top.path, top.array ? "[]" : (top.key ?? "")] : [];
        this.stack.push({ array, key: null, expectKey: !array, path });
        const target = array ? this.paths.findIndex((wanted) => samePath(path, wanted)) : -1;
        if (target >= 0) {
          this.outside.push(Buffer.from(bytes.subarray(outsideFrom, index + 1)));
          outsideFrom = -1;
          this.target = target;
          this.depth = 0;
        }
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        this.stack.pop();
      } else if (code === COLON) {
        if (top && !top.array) top.expectKey = false;
      } else if (code === COMMA) {
        if (top && !top.array) top.expectKey = true;
      }
    }
    if (outsideFrom >= 0) this.outside.push(Buffer.from(bytes.subarray(outsideFrom)));
    if (elementFrom >= 0 && this.element) this.element.push(bytes.subarray(elementFrom));
    if (keyFrom >= 0 && this.key) this.key.push(Buffer.from(bytes.subarray(keyFrom)));
  }

  private finishElement(tail: Uint8Array): void {
    const parts = this.element;
    this.inElement = false;
    this.element = null;
    if (!parts) return;
    parts.push(tail);
    this.ready.push({ kind: "element", path: this.target, value: JSON.parse(text(parts)) });
  }

  finish(): JsonStreamEvent {
    if (this.stack.length > 0 || this.inString) throw new SyntaxError("the JSON document ended early");
    return { kind: "document", value: JSON.parse(text(this.outside)) };
  }
}

/**
 * The events of one document. `wants` is asked as each element starts (with its path's index); an element not
 * wanted is skimmed, neither kept nor parsed.
 */
export async function* streamJsonArrays(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  paths: readonly JsonPath[],
  wants: (path: number) => boolean = () => true,
): AsyncGenerator<JsonStreamEvent> {
  const scanner = new Scanner(paths, wants);
  for await (const chunk of source) {
    scanner.feed(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    yield* scanner.ready.splice(0);
  }
  yield scanner.finish();
}

/** The document alone, with the arrays at `paths` emptied (their elements are skimmed). */
export async function readJsonWithout(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  paths: readonly JsonPath[],
): Promise<unknown> {
  for await (const event of streamJsonArrays(source, paths, () => false)) {
    if (event.kind === "document") return event.value;
  }
  throw new SyntaxError("no JSON document");
}
