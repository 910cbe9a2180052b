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

/**
 * One repository's images, unique by digest and in digest order, with the edges between them and
 * the fields the planner reads, copied into arrays by position in one pass over the listing.
 */
export interface ReferenceGraph {
  /** In digest order, one per digest; every other field refers to images by position here. */
  readonly images: readonly Image[];
  /**
   * Positions in listing order: walk this way when reading what images point at (tags), which lies in memory in that
   * order.
   */
  readonly listing: Int32Array;
  readonly digests: readonly string[];
  readonly tags: readonly (readonly string[])[];
  /** Epoch ms; `NaN` when unknown. */
  readonly pushedAtMs: Float64Array;
  /** Epoch ms; `NaN` when unknown or never pulled. */
  readonly lastPulledAtMs: Float64Array;
  /** 1 when the registry refuses to delete it. */
  readonly locked: Uint8Array;
  readonly roles: readonly ImageRole[];
  /**
   * What the image at position p references (its children, then its subject): `refs[refFrom[p] .. refTo[p])`;
   * its children alone end at `childEnd(graph, p)`.
   */
  readonly refFrom: Int32Array;
  readonly refTo: Int32Array;
  readonly refs: Int32Array;
  /**
   * The referrers of the image at position p, in digest order: `referrers[referrerStart[p] .. referrerStart[p + 1])`.
   */
  readonly referrerStart: Int32Array;
  readonly referrers: Int32Array;
  /** The position of the subject of the image at position p; -1: it names none; -2: its subject is not listed. */
  readonly subjectAt: Int32Array;
}

/**
 * The position of a digest among digests in order, or `undefined`. A binary search: most
 * images reference nothing, so a map of every digest would cost more than the few look-ups.
 */
export function positionIn(digests: readonly string[], digest: string): number | undefined {
  let low = 0;
  let high = digests.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const probe = digests[middle]!;
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
    const locks = [...(last.locks ?? []), ...(image.locks ?? [])];
    out[out.length - 1] = { ...last, tags, locked: last.locked || image.locked, ...(locks.length ? { locks } : {}) };
    if (warnings[warnings.length - 1]?.startsWith(image.digest) !== true) {
      warnings.push(`${image.digest} was listed more than once; its tags were merged and it is planned as one image`);
    }
  }
  return out;
}

/** The graph of an inventory's images, and warnings about what the listing got wrong. */
export function buildReferenceGraph(listed: readonly Image[]): { graph: ReferenceGraph; warnings: string[] } {
  const n = listed.length;
  // The one pass that reads the image objects, in listing order (their order in memory).
  const digestOf = new Array<string>(n);
  const tagsOf = new Array<readonly string[]>(n);
  const childrenOf = new Array<readonly string[]>(n);
  const subjectOf = new Array<string | null>(n);
  const pushedOf = new Float64Array(n);
  const pulledOf = new Float64Array(n);
  const lockedOf = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const image = listed[i]!;
    digestOf[i] = image.digest;
    tagsOf[i] = image.tags;
    childrenOf[i] = image.children;
    subjectOf[i] = image.subject;
    pushedOf[i] = image.pushedAtMs ?? Number.NaN;
    pulledOf[i] = image.lastPulledAtMs ?? Number.NaN;
    lockedOf[i] = image.locked ? 1 : 0;
  }
  const { order, repeated } = digestOrder(digestOf);
  if (repeated) {
    const warnings: string[] = [];
    const merged = mergeRepeats(listed, order, warnings);
    const built = buildReferenceGraph(merged);
    return { graph: built.graph, warnings: [...warnings, ...built.warnings] };
  }

  const images = new Array<Image>(n);
  const digests = new Array<string>(n);
  const tags = new Array<readonly string[]>(n);
  const pushedAtMs = new Float64Array(n);
  const lastPulledAtMs = new Float64Array(n);
  const locked = new Uint8Array(n);
  const listing = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    images[p] = listed[i]!;
    digests[p] = digestOf[i]!;
    tags[p] = tagsOf[i]!;
    pushedAtMs[p] = pushedOf[i]!;
    lastPulledAtMs[p] = pulledOf[i]!;
    locked[p] = lockedOf[i]!;
    listing[i] = p;
  }

  const refFrom = new Int32Array(n);
  const refTo = new Int32Array(n);
  const refs: number[] = [];
  const subjectAt = new Int32Array(n).fill(-1); // -1: none; -2: names a subject that is not listed
  const referrerCount = new Int32Array(n + 1);
  const listedAsChild = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = listing[i]!;
    refFrom[at] = refs.length;
    for (const child of childrenOf[i]!) {
      const target = positionIn(digests, child);
      if (target === undefined || target === at) continue;
      refs.push(target);
      listedAsChild[target] = 1;
    }
    const subject = subjectOf[i];
    if (subject !== null && subject !== undefined) {
      const target = positionIn(digests, subject);
      if (target !== undefined && target !== at) {
        refs.push(target);
        subjectAt[at] = target;
        referrerCount[target + 1]!++;
      } else {
        subjectAt[at] = -2;
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
    const subject = subjectAt[p]!;
    if (subject >= 0) referrers[filled[subject]!++] = p;
  }

  const roles = new Array<ImageRole>(n);
  for (let p = 0; p < n; p++) {
    const subject = subjectAt[p]!;
    if (subject >= 0) roles[p] = 'referrer';
    else if (subject === -2) roles[p] = 'orphan-referrer';
    else if (tags[p]!.length > 0) roles[p] = 'tagged-root';
    else roles[p] = listedAsChild[p] === 1 ? 'child' : 'untagged-root';
  }

  const graph: ReferenceGraph = {
    images,
    listing,
    digests,
    tags,
    pushedAtMs,
    lastPulledAtMs,
    locked,
    roles,
    refFrom,
    refTo,
    refs: Int32Array.from(refs),
    referrerStart,
    referrers,
    subjectAt,
  };
  return { graph, warnings: [] };
}

/** Where the children of the image at position p end in `refs` (its subject, if listed, is the last ref). */
export function childEnd(graph: ReferenceGraph, at: number): number {
  return graph.refTo[at]! - (graph.subjectAt[at]! >= 0 ? 1 : 0);
}

/**
 * Who references each image, for deleting in order (lib/execute): the indexes that list the image
 * at position p, then its referrers, each in listing order: `from[start[p] .. start[p + 1])`, with
 * `isIndex[e]` 1 for an index and 0 for a referrer. Built on demand: planning does not need it.
 */
export interface Referencers {
  readonly start: Int32Array;
  readonly from: Int32Array;
  readonly isIndex: Uint8Array;
}

/** The referencers of every image in `graph`. */
export function referencersOf(graph: ReferenceGraph): Referencers {
  const n = graph.images.length;
  const start = new Int32Array(n + 1);
  for (let at = 0; at < n; at++)
    for (let e = graph.refFrom[at]!; e < graph.refTo[at]!; e++) start[graph.refs[e]! + 1]!++;
  for (let at = 0; at < n; at++) start[at + 1]! += start[at]!;
  const from = new Int32Array(start[n]!);
  const isIndex = new Uint8Array(start[n]!);
  const filled = start.slice(0, n);
  // Indexes first, then referrers, each pass in listing order.
  for (const at of graph.listing) {
    for (let e = graph.refFrom[at]!; e < childEnd(graph, at); e++) {
      const slot = filled[graph.refs[e]!]!++;
      from[slot] = at;
      isIndex[slot] = 1;
    }
  }
  for (const at of graph.listing) {
    const subject = graph.subjectAt[at]!;
    if (subject >= 0) from[filled[subject]!++] = at;
  }
  return { start, from, isIndex };
}

/**
 * Extends `reasons` to a fixpoint from `seeds` (positions already kept): the children and the
 * subject of a kept manifest are kept as `referenced`, its referrers as `subject`. Breadth first
 * from seeds in digest order, so each image's reason names the nearest kept image that holds it,
 * whatever order the inventory came in.
 */
export function propagateKeep(
  graph: ReferenceGraph,
  reasons: (KeepReason | undefined)[],
  seeds: readonly number[],
): void {
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
