/**
 * Sorting images by digest, the planner's one source of determinism. Plain string sorting costs
 * a runtime string comparison per step; a repository of a hundred thousand manifests is sorted
 * far faster on a numeric key made of the first characters after `sha256:`, with ties (same
 * prefix) settled by comparing whole digests.
 */
import type { Image } from '../model.js';

const PREFIX = 'sha256:';
const KEY_CHARS = 5; // 5 × 7 bits = 35 bits of key …
const POSITION_BITS = 17; // … + 17 bits of position = 52 bits: exact in a double
const MAX_KEYED = 2 ** POSITION_BITS;

/** String order of two images' digests. */
export function compareDigest(a: Image, b: Image): number {
  return a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
}

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

/** A new array of the images in digest order (stable for equal digests). */
export function sortByDigest(images: readonly Image[]): Image[] {
  const n = images.length;
  if (n >= MAX_KEYED) return [...images].sort(compareDigest);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const key = prefixKey(images[i]!.digest);
    if (key < 0) return [...images].sort(compareDigest); // not all sha256 ASCII digests: sort plainly
    keys[i] = key * MAX_KEYED + i;
  }
  keys.sort();
  const sorted = new Array<Image>(n);
  for (let i = 0; i < n; i++) sorted[i] = images[keys[i]! % MAX_KEYED]!;
  // Settle runs that share the key prefix by their whole digest.
  for (let start = 0; start < n; ) {
    const prefix = Math.floor(keys[start]! / MAX_KEYED);
    let end = start + 1;
    while (end < n && Math.floor(keys[end]! / MAX_KEYED) === prefix) end++;
    if (end - start > 1) {
      const run = sorted.slice(start, end).sort(compareDigest);
      for (let i = 0; i < run.length; i++) sorted[start + i] = run[i]!;
    }
    start = end;
  }
  return sorted;
}
