/**
 * Digest order, the planner's one source of determinism. Comparing strings costs a runtime call
 * per step; a numeric sort on the first characters after `sha256:`, with ties (same prefix)
 * settled by comparing whole digests, orders a large repository several times faster.
 */
import type { Image } from '../model.js';

const PREFIX = 'sha256:';
const KEY_CHARS = 5; // 5 × 7 bits = 35 bits of key …
const INDEX_BITS = 17; // … + 17 bits of index = 52 bits: exact in a double
const MAX_KEYED = 2 ** INDEX_BITS;

function prefixKey(digest: string): number {
  if (!digest.startsWith(PREFIX) || digest.length < PREFIX.length + KEY_CHARS) return -1;
  let key = 0;
  for (let i = PREFIX.length; i < PREFIX.length + KEY_CHARS; i++) {
    const code = digest.charCodeAt(i);
    if (code >= 128) return -1;
    key = key * 128 + code;
  }
  return key;
}

/** By digest, then by index: a total order, so equal digests keep their listing order. */
function byDigestThenIndex(digests: readonly string[]): (a: number, b: number) => number {
  return (a, b) => {
    const x = digests[a]!;
    const y = digests[b]!;
    return x < y ? -1 : x > y ? 1 : a - b;
  };
}

/**
 * Indices in digest order (`order[p]` is the index of the p-th smallest digest; equal digests in
 * listing order), and whether any digest is listed more than once.
 */
export function digestOrder(digests: readonly string[]): { order: Int32Array; repeated: boolean } {
  const n = digests.length;
  const keys = new Float64Array(n);
  let keyed = n < MAX_KEYED;
  for (let i = 0; i < n && keyed; i++) {
    const key = prefixKey(digests[i]!);
    keyed = key >= 0;
    keys[i] = key * MAX_KEYED + i;
  }
  const compare = byDigestThenIndex(digests);
  if (!keyed) {
    // Not all sha256 digests in ASCII, or a huge repository: sort plainly.
    const order = Int32Array.from({ length: n }, (_, i) => i).sort(compare);
    let repeated = false;
    for (let p = 1; p < n && !repeated; p++) repeated = digests[order[p]!] === digests[order[p - 1]!];
    return { order, repeated };
  }
  keys.sort();
  const order = new Int32Array(n);
  for (let p = 0; p < n; p++) order[p] = keys[p]! % MAX_KEYED;
  // Settle runs sharing a key prefix by whole digest; only there can a digest repeat.
  let repeated = false;
  for (let start = 0; start < n; ) {
    const prefix = Math.floor(keys[start]! / MAX_KEYED);
    let end = start + 1;
    while (end < n && Math.floor(keys[end]! / MAX_KEYED) === prefix) end++;
    if (end - start > 1) {
      order.subarray(start, end).sort(compare);
      for (let p = start + 1; p < end && !repeated; p++) repeated = digests[order[p]!] === digests[order[p - 1]!];
    }
    start = end;
  }
  return { order, repeated };
}

/** A new array of the images in digest order (equal digests in listing order). */
export function sortByDigest(images: readonly Image[]): Image[] {
  return Array.from(digestOrder(images.map((image) => image.digest)).order, (i) => images[i]!);
}
