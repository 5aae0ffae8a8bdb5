import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CompactStringSet, FingerprintIdSet } from "../src/jobs/id-set.js";

describe("CompactStringSet", () => {
  it("is exact over many keys, through several regrowths, including non-ASCII and empty keys", () => {
    const set = new CompactStringSet();
    const keys = Array.from({ length: 50_000 }, (_, index) => `req-${index}-${index % 7 === 0 ? "é漢" : ""}`);
    for (const key of keys) expect(set.add(key)).toBe(true);
    expect(set.size).toBe(keys.length);
    for (const key of keys.filter((_, index) => index % 97 === 0)) expect(set.add(key)).toBe(false);
    expect(set.add("")).toBe(true);
    expect(set.add("")).toBe(false);
    expect(set.add("req-1-")).toBe(false);
    expect(set.add("req-1")).toBe(true);
    expect(set.size).toBe(keys.length + 2);
  });

  it("tells apart keys whose hashes collide", () => {
    const set = new CompactStringSet();
    // Enough keys in a small table that many share slots: every one is still found, none is confused.
    const keys = Array.from(
      { length: 3_000 },
      (_, index) => String.fromCharCode(65 + (index % 26)).repeat(1 + (index % 5)) + index,
    );
    for (const key of keys) set.add(key);
    for (const key of keys) expect(set.add(key)).toBe(false);
    expect(set.add("not-there")).toBe(true);
  });
});

describe("FingerprintIdSet", () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "relay-ids-"));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("is exact over many IDs through several regrowths, non-ASCII included, and removes its log", () => {
    const log = join(directory, "ids.log");
    const set = new FingerprintIdSet(log, 16);
    const ids = Array.from({ length: 20_000 }, (_, index) => `req-${index}-${index % 7 === 0 ? "é漢" : ""}`);
    for (const id of ids) expect(set.add(id)).toBe(true);
    expect(set.size).toBe(ids.length);
    for (const id of ids.filter((_, index) => index % 97 === 0)) expect(set.add(id)).toBe(false);
    expect(set.add("req-1-")).toBe(false);
    expect(set.add("req-1")).toBe(true);
    expect(set.bytes).toBe(32_768 * 4);
    set.close();
    expect(existsSync(log)).toBe(false);
  });

  it("never takes a new ID for a repeat when their fingerprints and places are the same", () => {
    // Found by search: the same 32-bit fingerprint and the same slot in a table of 16.
    const [first, second] = ["id-72422", "id-647800"];
    const set = new FingerprintIdSet(join(directory, "ids.log"), 16);
    expect(set.add(first)).toBe(true);
    expect(set.add(second)).toBe(true);
    expect(set.add(first)).toBe(false);
    expect(set.add(second)).toBe(false);
    expect(set.size).toBe(2);
    set.close();
  });
});
