/**
 * Rule 6: how manifests in one repository reference each other. An index lists children; a
 * referrer (signature, attestation, SBOM) names its subject. Keep flows along both: what a kept
 * manifest references is kept, and so are the referrers of a kept manifest.
 *
 * Images are numbered by their position in digest order, and edges are position lists in typed
 * arrays: planning never depends on the inventory's order, allocates little, and reads each image
 * object only a couple of times, in listing order (in memory order, which is what makes a large
 * repository fast to plan).
 */
import type { Image } from '../model.js';
import { digestOrder } from './digest-order.js';
import type { KeepReason } from './types.js';

/**
 * What part an image plays in its repository:
 * - `tagged-root`: tagged, not a referrer: ranked by rule 2;
 * - `untagged-root`: untagged, no index lists it, no subject: an orphan (rule 7);
 * - `child`: untagged and listed by an index in the inventory: follows its index;
 * - `referrer`: its subject is in the inventory: follows its subject;
 * - `orphan-referrer`: its subject is not in the inventory: treated like an untagged orphan.
 */
export type ImageRole = 'tagged-root' | 'untagged-root' | 'child' | 'referrer' | 'orphan-referrer';

/** One repository's images, unique by digest and in digest order, with the edges between them. */
export interface ReferenceGraph {
  /** In digest order, one per digest; every other field refers to images by position here. */
  readonly images: readonly Image[];
  /** Positions in listing order: visit images this way when reading their fields. */
  readonly listing: Int32Array;
  readonly roles: readonly ImageRole[];
  /** What the image at position p references (its children, then its subject): `refs[refFrom[p] .. refTo[p])`. */
  readonly refFrom: Int32Array;
  readonly refTo: Int32Array;
  readonly refs: Int32Array;
  /** The referrers of the image at position p, in digest order: `referrers[referrerStart[p] .. referrerStart[p + 1])`. */
  readonly referrerStart: Int32Array;
  readonly referrers: Int32Array;
}

/**
 * The position of a digest among images in digest order, or `undefined`. A binary search: most
 * images reference nothing, so a map of every digest would cost more than the few look-ups.
 */
export function positionIn(images: readonly Image[], digest: string): number | undefined {
  let low = 0;
  let high = images.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const probe = images[middle]!.digest;
    if (probe === digest) return middle;
    if (probe < digest) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/** One image per digest, in digest order: copies are merged (tags joined, locked if either is) and reported. */
function mergeRepeats(listed: readonly Image[], order: Int32Array, warnings: string[]): Image[] {
  const out: Image[] = [];
  for (const index of order) {
    const image = listed[index]!;
    const last = out[out.length - 1];
    if (last === undefined || last.digest !== image.digest) {
      out.push(image);
      continue;
    }
    const tags = [...new Set([...last.tags, ...image.tags])].sort();
    out[out.length - 1] = { ...last, tags, locked: last.locked || image.locked };
    if (warnings[warnings.length - 1]?.startsWith(image.digest) !== true) {
      warnings.push(`${image.digest} was listed more than once; its tags were merged and it is planned as one image`);
    }
  }
  return out;
}

/** The graph of an inventory's images, and warnings about what the listing got wrong. */
export function buildReferenceGraph(listed: readonly Image[]): { graph: ReferenceGraph; warnings: string[] } {
  const warnings: string[] = [];
  let input = listed;
  let { order, repeated } = digestOrder(input);
  if (repeated) {
    input = mergeRepeats(listed, order, warnings);
    order = Int32Array.from(input, (_, i) => i); // already in digest order
  }
  const n = input.length;
  const images = new Array<Image>(n);
  const listing = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    images[p] = input[order[p]!]!;
    listing[order[p]!] = p;
  }

  const refFrom = new Int32Array(n);
  const refTo = new Int32Array(n);
  const refs: number[] = [];
  const subjectOf = new Int32Array(n).fill(-1); // -1: none; -2: names a subject that is not listed
  const referrerCount = new Int32Array(n + 1);
  const listedAsChild = new Uint8Array(n);
  const tagged = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = listing[i]!;
    const image = input[i]!;
    tagged[at] = image.tags.length > 0 ? 1 : 0;
    refFrom[at] = refs.length;
    for (const child of image.children) {
      const target = positionIn(images, child);
      if (target === undefined || target === at) continue;
      refs.push(target);
      listedAsChild[target] = 1;
    }
    if (image.subject !== null) {
      const target = positionIn(images, image.subject);
      if (target !== undefined && target !== at) {
        refs.push(target);
        subjectOf[at] = target;
        referrerCount[target + 1]!++;
      } else {
        subjectOf[at] = -2;
      }
    }
    refTo[at] = refs.length;
  }

  // Counting sort of referrers by subject; filling in position order keeps each list in digest order.
  const referrerStart = new Int32Array(n + 1);
  for (let p = 0; p < n; p++) referrerStart[p + 1] = referrerStart[p]! + referrerCount[p + 1]!;
  const referrers = new Int32Array(referrerStart[n]!);
  const filled = referrerStart.slice(0, n);
  for (let p = 0; p < n; p++) {
    const subject = subjectOf[p]!;
    if (subject >= 0) referrers[filled[subject]!++] = p;
  }

  const roles = new Array<ImageRole>(n);
  for (let p = 0; p < n; p++) {
    const subject = subjectOf[p]!;
    if (subject >= 0) roles[p] = 'referrer';
    else if (subject === -2) roles[p] = 'orphan-referrer';
    else if (tagged[p] === 1) roles[p] = 'tagged-root';
    else roles[p] = listedAsChild[p] === 1 ? 'child' : 'untagged-root';
  }

  return {
    graph: { images, listing, roles, refFrom, refTo, refs: Int32Array.from(refs), referrerStart, referrers },
    warnings,
  };
}

/**
 * Extends `reasons` to a fixpoint from `seeds` (positions already kept): the children and the
 * subject of a kept manifest are kept as `referenced`, its referrers as `subject`. Breadth first
 * from seeds in digest order, so each image's reason names the nearest kept image that holds it,
 * whatever order the inventory came in.
 */
export function propagateKeep(graph: ReferenceGraph, reasons: (KeepReason | undefined)[], seeds: readonly number[]): void {
  const queue = [...seeds];
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head]!;
    for (let e = graph.refFrom[at]!; e < graph.refTo[at]!; e++) {
      const target = graph.refs[e]!;
      if (reasons[target] !== undefined) continue;
      reasons[target] = 'referenced';
      queue.push(target);
    }
    for (let e = graph.referrerStart[at]!; e < graph.referrerStart[at + 1]!; e++) {
      const referrer = graph.referrers[e]!;
      if (reasons[referrer] !== undefined) continue;
      reasons[referrer] = 'subject';
      queue.push(referrer);
    }
  }
}
