import { describe, expect, it } from "vitest";
import { CompactStringSet } from "../src/jobs/id-set.js";

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
