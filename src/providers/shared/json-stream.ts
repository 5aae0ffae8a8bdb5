/**
 * Reads one JSON document from a stream without ever holding chosen arrays whole: the elements of the arrays at
 * the given paths are yielded one by one as they complete, and the rest of the document is yielded last, with
 * those arrays left empty. Used for provider answers that carry many results inside one JSON object.
 */

export type JsonPath = readonly string[];

export type JsonStreamEvent =
  /** One element of the array at `paths[path]`. */
  | { kind: "element"; path: number; value: unknown }
  /** The whole document with the arrays at `paths` emptied; always the last event. */
  | { kind: "document"; value: unknown };

interface Frame {
  array: boolean;
  /** The key being read or last read (objects only). */
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

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function samePath(a: readonly string[], b: JsonPath): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index]);
}

class Scanner {
  readonly ready: JsonStreamEvent[] = [];
  private readonly stack: Frame[] = [];
  private readonly outside: string[] = [];
  private inString = false;
  private escaped = false;
  private key: string[] | null = null;
  /** Index in `paths` of the array being read element by element, or -1. */
  private target = -1;
  private depth = 0;
  private element: string[] | null = null;

  constructor(private readonly paths: readonly JsonPath[]) {}

  feed(text: string): void {
    let outsideFrom = this.target < 0 ? 0 : -1;
    let elementFrom = this.element ? 0 : -1;
    let keyFrom = this.key ? 0 : -1;
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (this.target >= 0) {
        // Inside a target array: only nesting and strings matter, to find where each element ends.
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (code === BACKSLASH) this.escaped = true;
          else if (code === QUOTE) this.inString = false;
          continue;
        }
        if (code === CLOSE_BRACKET && this.depth === 0) {
          if (this.element) this.finishElement(text.slice(elementFrom, index));
          elementFrom = -1;
          this.target = -1;
          this.stack.pop();
          outsideFrom = index;
          continue;
        }
        if (code === COMMA && this.depth === 0) {
          if (this.element) this.finishElement(text.slice(elementFrom, index));
          elementFrom = -1;
          continue;
        }
        if (isSpace(code) && !this.element) continue;
        if (!this.element) {
          this.element = [];
          elementFrom = index;
        }
        if (code === QUOTE) this.inString = true;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth += 1;
        else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
          this.depth -= 1;
          if (this.depth === 0) {
            this.finishElement(text.slice(elementFrom, index + 1));
            elementFrom = -1;
          }
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) {
          this.inString = false;
          if (this.key) {
            this.key.push(text.slice(keyFrom, index));
            const top = this.stack.at(-1);
            if (top) top.key = JSON.parse(`"${this.key.join("")}"`) as string;
            this.key = null;
            keyFrom = -1;
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
          this.outside.push(text.slice(outsideFrom, index + 1));
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
    if (outsideFrom >= 0) this.outside.push(text.slice(outsideFrom));
    if (elementFrom >= 0 && this.element) this.element.push(text.slice(elementFrom));
    if (keyFrom >= 0 && this.key) this.key.push(text.slice(keyFrom));
  }

  private finishElement(tail: string): void {
    const parts = this.element ?? [];
    parts.push(tail);
    this.element = null;
    this.ready.push({ kind: "element", path: this.target, value: JSON.parse(parts.join("")) });
  }

  finish(): JsonStreamEvent {
    if (this.stack.length > 0 || this.inString) throw new SyntaxError("the JSON document ended early");
    return { kind: "document", value: JSON.parse(this.outside.join("")) };
  }
}

export async function* streamJsonArrays(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  paths: readonly JsonPath[],
): AsyncGenerator<JsonStreamEvent> {
  const scanner = new Scanner(paths);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for await (const chunk of source) {
    scanner.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    yield* scanner.ready.splice(0);
  }
  scanner.feed(decoder.decode());
  yield* scanner.ready.splice(0);
  yield scanner.finish();
}

/** The document alone, with the arrays at `paths` emptied (their elements are read and dropped). */
export async function readJsonWithout(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  paths: readonly JsonPath[],
): Promise<unknown> {
  for await (const event of streamJsonArrays(source, paths)) {
    if (event.kind === "document") return event.value;
  }
  throw new SyntaxError("no JSON document");
}
