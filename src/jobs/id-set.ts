import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { ChunkWriter } from "../util/chunk-writer.js";
import { fnv1a } from "../util/fnv1a.js";

/**
 * An exact set of strings that costs about their UTF-8 bytes plus 10 bytes each, instead of the ~50 bytes each of
 * a Set<string>: the IDs of a million-request job are checked for duplicates in ~20 MB. Keys live back to back in
 * one growing buffer (a 2-byte length, then the bytes); an open-addressing table of offsets finds them.
 */
export class CompactStringSet {
  private arena = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private table = new Int32Array(1 << 12).fill(-1);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the key; false if it was already there. */
  add(key: string): boolean {
    const bytes = Buffer.from(key, "utf8");
    if (bytes.length > 0xffff) throw new RangeError("key longer than 65535 bytes");
    const mask = this.table.length - 1;
    let slot = hash(bytes, 0, bytes.length) & mask;
    for (let offset = this.table[slot] as number; offset !== -1; offset = this.table[slot] as number) {
      if (this.equals(offset, bytes)) return false;
      slot = (slot + 1) & mask;
    }
    this.table[slot] = this.append(bytes);
    this.count += 1;
    if (this.count * 2 > this.table.length) this.rehash(this.table.length * 2);
    return true;
  }

  private equals(offset: number, bytes: Buffer): boolean {
    const length = this.arena.readUInt16LE(offset);
    return (
      length === bytes.length && this.arena.compare(bytes, 0, length, offset + 2, offset + 2 + length) === 0
    );
  }

  private append(bytes: Buffer): number {
    const needed = this.used + 2 + bytes.length;
    if (needed > this.arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.arena.length * 2));
      this.arena.copy(grown, 0, 0, this.used);
      this.arena = grown;
    }
    const offset = this.used;
    this.arena.writeUInt16LE(bytes.length, offset);
    bytes.copy(this.arena, offset + 2);
    this.used = needed;
    return offset;
  }

  private rehash(capacity: number): void {
    const table = new Int32Array(capacity).fill(-1);
    const mask = capacity - 1;
    for (let offset = 0; offset < this.used; ) {
      const length = this.arena.readUInt16LE(offset);
      let slot = hash(this.arena, offset + 2, offset + 2 + length) & mask;
      while (table[slot] !== -1) slot = (slot + 1) & mask;
      table[slot] = offset;
      offset += 2 + length;
    }
    this.table = table;
  }
}

/** 32-bit FNV-1a over bytes [start, end). */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let value = 0x811c9dc5;
  for (let index = start; index < end; index += 1) {
    value ^= bytes[index] as number;
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

/**
 * The set of a job's request IDs, to refuse a repeated one, in about 6 bytes an ID (a table of 4-byte slots kept
 * at most three-quarters full): each ID is kept as a 32-bit fingerprint at a place found from a second, independent
 * hash, and appended to a log file. An ID whose fingerprint is met on its way is looked up exactly in the log,
 * so the set never mistakes a new ID for a repeat: a read of the log that happens, besides real repeats (which end
 * the job), about once in a few hundred jobs of millions of IDs.
 */
export class FingerprintIdSet {
  private table: Uint32Array;
  private count = 0;
  private readonly log: ChunkWriter;

  constructor(
    private readonly logPath: string,
    /** Slots to start with, a power of two (4 MB' worth by default: room for 786,432 IDs before it grows). */
    slots = 1 << 20,
  ) {
    this.table = new Uint32Array(slots);
    this.log = new ChunkWriter(logPath, undefined, 64 * 1024);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held in memory. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Adds the ID; false if it was already there. */
  add(id: string): boolean {
    const fingerprint = fingerprintOf(id);
    const mask = this.table.length - 1;
    let slot = fnv1a(id) & mask;
    for (let held = this.table[slot] as number; held !== 0; held = this.table[slot] as number) {
      if (held === fingerprint && this.logged(id)) return false;
      slot = (slot + 1) & mask;
    }
    this.table[slot] = fingerprint;
    this.log.line(id);
    this.count += 1;
    if (this.count * 4 > this.table.length * 3) this.grow();
    return true;
  }

  /** Whether the log holds the ID (the exact check behind a fingerprint met). */
  private logged(id: string): boolean {
    this.log.flush();
    for (const line of readLinesSync(this.logPath)) if (line === id) return true;
    return false;
  }

  private grow(): void {
    // Fingerprints do not say where an ID belongs: the IDs are placed again from the log.
    this.log.flush();
    this.table = new Uint32Array(this.table.length * 2);
    const mask = this.table.length - 1;
    for (const id of readLinesSync(this.logPath)) {
      let slot = fnv1a(id) & mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & mask;
      this.table[slot] = fingerprintOf(id);
    }
  }

  /** Closes and removes the log. */
  close(): void {
    this.log.destroy();
    rmSync(this.logPath, { force: true });
  }
}

/** A second 32-bit hash (murmur3's mixing), never 0 (0 marks an empty slot): what an ID is kept as. */
function fingerprintOf(text: string): number {
  let value = 0x9747b28c ^ text.length;
  for (let index = 0; index < text.length; index += 1) {
    let unit = Math.imul(text.charCodeAt(index), 0xcc9e2d51);
    unit = Math.imul((unit << 15) | (unit >>> 17), 0x1b873593);
    value ^= unit;
    value = Math.imul((value << 13) | (value >>> 19), 5) + 0xe6546b64;
  }
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  value ^= value >>> 16;
  return value >>> 0 || 1;
}

/** The lines of a file, read in blocks (for the rare look into the log); a block is decoded up to its last line break. */
function* readLinesSync(path: string): Generator<string> {
  const fd = openSync(path, "r");
  try {
    let block = Buffer.allocUnsafe(1 << 20);
    let held = 0;
    for (;;) {
      if (held === block.length) {
        const larger = Buffer.allocUnsafe(block.length * 2);
        block.copy(larger, 0, 0, held);
        block = larger;
      }
      const read = readSync(fd, block, held, block.length - held, null);
      const end = held + read;
      const last = read === 0 ? end : block.lastIndexOf(10, end - 1);
      if (last >= 0 && (read === 0 || last >= held)) {
        const text = block.toString("utf8", 0, last);
        if (text !== "") yield* text.split("\n");
        held = read === 0 ? 0 : end - last - 1;
        block.copy(block, 0, last + 1, end);
      } else held = end;
      if (read === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}
