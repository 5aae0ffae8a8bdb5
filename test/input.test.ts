import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRequests } from "../src/input/open.js";
import type { BatchRequest } from "../src/types.js";
import { tee } from "../src/util/tee.js";

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("request files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "relay-input-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  const read = async (path: string, defaults = {}) => all((await openRequests(path, defaults)).requests);

  it("CSV: a header, RFC 4180 quoting, a BOM and CRLF; ids by row when there is no id column; defaults for empty cells", async () => {
    const path = await file(
      "q.csv",
      '\ufeffprompt,system_prompt,max_tokens\r\n"a, b",,\r\n"multi\r\nline ""quoted""",Be brief.,7\r\n\r\n',
    );
    expect(await read(path, { model: "m", systemPrompt: "Default.", maxTokens: 3 })).toEqual([
      { id: "row-1", model: "m", prompt: "a, b", systemPrompt: "Default.", maxTokens: 3 },
      { id: "row-2", model: "m", prompt: 'multi\r\nline "quoted"', systemPrompt: "Be brief.", maxTokens: 7 },
    ]);
  });

  it("CSV: refuses what it cannot read exactly, naming the file and line", async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ["header-only.csv", "id,prompt\n", /^$/],
      ["no-prompt.csv", "id\n1\n", /no "prompt" column/],
      ["twice.csv", "prompt,prompt\na,b\n", /appears twice/],
      ["ragged.csv", "id,prompt\n1,a,extra\n", /not a valid CSV file/],
      ["empty-id.csv", "id,prompt\n,a\n", /line 2: the id is empty/],
      ["empty-prompt.csv", "id,prompt\n1,\n", /line 2: the prompt is empty/],
      ["negative.csv", "prompt,max_tokens\na,-1\n", /max_tokens must be a whole number of at least 1/],
      [
        "bad-utf8.csv",
        Buffer.from([0x70, 0x72, 0x6f, 0x6d, 0x70, 0x74, 0x0a, 0xff, 0x0a]),
        /not valid UTF-8/,
      ],
    ];
    for (const [name, content, message] of cases) {
      const path = await file(name, content);
      if (message.source === "^$") expect(await read(path, { model: "m" })).toEqual([]);
      else
        await expect(read(path, { model: "m" }), name).rejects.toMatchObject({
          code: "invalid_input_file",
          message,
        });
    }
  });

  it("TXT: one prompt per line, blank lines skipped, ids by line number; the model is required", async () => {
    const path = await file("p.txt", "first\r\n\n  \nsecond line\nlast");
    expect(await read(path, { model: "m", maxTokens: 5 })).toEqual([
      { id: "line-1", model: "m", prompt: "first", maxTokens: 5 },
      { id: "line-4", model: "m", prompt: "second line", maxTokens: 5 },
      { id: "line-5", model: "m", prompt: "last", maxTokens: 5 },
    ]);
    await expect(read(path)).rejects.toMatchObject({ message: /give the model with --model/ });
  });

  it("JSONL: defaults fill only what a line leaves out; stdin is read the same way", async () => {
    const lines = `${JSON.stringify({ id: "a", prompt: "x" })}\n${JSON.stringify({ id: "b", model: "own", prompt: "y", maxTokens: 1 })}\n`;
    const expected: BatchRequest[] = [
      { id: "a", model: "m", prompt: "x", maxTokens: 9 },
      { id: "b", model: "own", prompt: "y", maxTokens: 1 },
    ];
    expect(await read(await file("r.jsonl", lines), { model: "m", maxTokens: 9 })).toEqual(expected);
    const stdin = Readable.from([Buffer.from(lines.slice(0, 7)), Buffer.from(lines.slice(7))]);
    const source = await openRequests("-", { model: "m", maxTokens: 9 }, stdin);
    expect(source.label).toBe("stdin");
    expect(await all(source.requests)).toEqual(expected);
    const broken = await openRequests("-", {}, Readable.from([Buffer.from("{nope}\n")]));
    await expect(all(broken.requests)).rejects.toMatchObject({ message: /^stdin, line 1: not valid JSON/ });
  });

  it("refuses a missing file, a directory and an unknown extension before reading anything", async () => {
    await expect(openRequests(join(dir, "missing.csv"), {})).rejects.toMatchObject({
      message: /no such file/,
    });
    await expect(openRequests(dir.replace(/$/, "/"), {})).rejects.toMatchObject({
      code: "invalid_input_file",
    });
    const sub = join(dir, "folder.jsonl");
    await import("node:fs/promises").then((fs) => fs.mkdir(sub));
    await expect(openRequests(sub, {})).rejects.toMatchObject({
      message: /is a directory, not a requests file/,
    });
    await expect(openRequests(await file("x.json", "[]"), {})).rejects.toMatchObject({
      message: /unknown kind of requests file/,
    });
  });
});

describe("tee", () => {
  async function* numbers(count: number, log: number[]) {
    for (let n = 0; n < count; n += 1) {
      log.push(n);
      yield n;
    }
  }

  it("gives both branches every item, reading the source once", async () => {
    const log: number[] = [];
    const { branches } = tee(numbers(50, log), 4);
    const [a, b] = await Promise.all([all(branches[0]), all(branches[1])]);
    expect(a).toEqual([...Array(50).keys()]);
    expect(b).toEqual(a);
    expect(log).toEqual(a);
  });

  it("holds a fast branch back while the slow one has `limit` items unread", async () => {
    const log: number[] = [];
    const { branches } = tee(numbers(100, log), 5);
    const slow = branches[1];
    const fast = (async () => {
      let seen = 0;
      for await (const _ of branches[0]) seen += 1;
      return seen;
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The slow branch has taken nothing yet: the source is read at most `limit` (+1 in flight) ahead of it.
    expect(log.length).toBeLessThanOrEqual(6);
    expect((await all(slow)).length).toBe(100);
    expect(await fast).toBe(100);
  });

  it("lets the other branch go on when one stops, and stop() ends both", async () => {
    const { branches } = tee(numbers(30, []), 2);
    const [first, rest] = await Promise.all([
      (async () => {
        for await (const item of branches[0]) if (item === 3) break;
        return "stopped";
      })(),
      all(branches[1]),
    ]);
    expect(first).toBe("stopped");
    expect(rest).toHaveLength(30);

    const stopped = tee(numbers(1_000, []), 2);
    const taken: number[] = [];
    for await (const item of stopped.branches[0]) {
      taken.push(item);
      if (item === 1) await stopped.stop();
    }
    expect(taken).toEqual([0, 1]);
    expect(await all(stopped.branches[1])).toEqual([]);
  });

  it("passes the source's error to both branches", async () => {
    async function* failing() {
      yield 1;
      throw new Error("broken source");
    }
    const { branches } = tee(failing());
    const settled = await Promise.allSettled([all(branches[0]), all(branches[1])]);
    expect(settled.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
  });
});
