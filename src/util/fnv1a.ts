/** 32-bit FNV-1a over a string's UTF-16 code units: a quick, well-spread hash for tables keyed by IDs. */
export function fnv1a(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}
