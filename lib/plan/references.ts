/**
 * Rule 6: how manifests in one repository reference each other. An index lists children; a
 * referrer (signature, attestation, SBOM) names its subject. Keep flows along both: what a kept
 * manifest references is kept, and so are the referrers of a kept manifest.
 *
 * Images are numbered by their position in digest order, and edges are stored as position lists,
 * so planning a large repository allocates little and never depends on the inventory's order.
 */
import type { Image } from '../model.js';
import { compareDigest, sortByDigest } from './digest-order.js';
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
  readonly roles: readonly ImageRole[];
  /** What image i references (its children, then its subject): `refs[refStart[i] .. refStart[i + 1])`. */
  readonly refStart: Int32Array;
  readonly refs: Int32Array;
  /** Image i's referrers, in digest order: `referrers[referrerStart[i] .. referrerStart[i + 1])`. */
  readonly referrerStart: Int32Array;
  readonly referrers: Int32Array;
}

/** One image per digest: a digest listed twice is merged (tags joined, locked if either copy is). */
function uniqueByDigest(sorted: Image[], warnings: string[]): Image[] {
  let repeated = false;
  for (let i = 1; i < sorted.length && !repeated; i++) repeated = sorted[i]!.digest === sorted[i - 1]!.digest;
  if (!repeated) return sorted;
  const out: Image[] = [];
  for (const image of sorted) {
    const last = out[out.length - 1];
    if (last === undefined || compareDigest(last, image) !== 0) {
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

/** The graph of an inventory's images, and warnings about what the listing got wrong. */
export function buildReferenceGraph(listed: readonly Image[]): { graph: ReferenceGraph; warnings: string[] } {
  const warnings: string[] = [];
  const images = uniqueByDigest(sortByDigest(listed), warnings);
  const n = images.length;
  const positionOf = (digest: string): number | undefined => positionIn(images, digest);

  const refStart = new Int32Array(n + 1);
  const refs: number[] = [];
  const subjectOf = new Int32Array(n).fill(-1);
  const referrerCount = new Int32Array(n + 1);
  const listedAsChild = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const image = images[i]!;
    for (const child of image.children) {
      const at = positionOf(child);
      if (at === undefined || at === i) continue;
      refs.push(at);
      listedAsChild[at] = 1;
    }
    if (image.subject !== null) {
      const at = positionOf(image.subject);
      if (at !== undefined && at !== i) {
        refs.push(at);
        subjectOf[i] = at;
        referrerCount[at + 1]!++;
      }
    }
    refStart[i + 1] = refs.length;
  }

  // Counting sort of referrers by subject; filling in position order keeps each list in digest order.
  const referrerStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) referrerStart[i + 1] = referrerStart[i]! + referrerCount[i + 1]!;
  const referrers = new Int32Array(referrerStart[n]!);
  const filled = referrerStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    const subject = subjectOf[i]!;
    if (subject >= 0) referrers[filled[subject]!++] = i;
  }

  const roles = images.map((image, i): ImageRole => {
    if (image.subject !== null) return subjectOf[i]! >= 0 ? 'referrer' : 'orphan-referrer';
    if (image.tags.length > 0) return 'tagged-root';
    return listedAsChild[i] === 1 ? 'child' : 'untagged-root';
  });

  return {
    graph: { images, roles, refStart, refs: Int32Array.from(refs), referrerStart, referrers },
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
    for (let e = graph.refStart[at]!; e < graph.refStart[at + 1]!; e++) {
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
