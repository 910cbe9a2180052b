/**
 * Rule 6: how manifests in one repository reference each other. An index lists children; a
 * referrer (signature, attestation, SBOM) names its subject. Keep flows along both: what a kept
 * manifest references is kept, and so are the referrers of a kept manifest.
 */
import type { Image } from '../model.js';
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

/** One repository's images, unique by digest and sorted by it, with the edges between them. */
export interface ReferenceGraph {
  /** Sorted by digest, one per digest. */
  readonly images: readonly Image[];
  readonly byDigest: ReadonlyMap<string, Image>;
  /** Subject digest → its referrers in the inventory, sorted by digest. */
  readonly referrersOf: ReadonlyMap<string, readonly Image[]>;
  /** Digests some index in the inventory lists as a child. */
  readonly listedAsChild: ReadonlySet<string>;
}

function byDigest(a: Image, b: Image): number {
  return a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
}

/**
 * The graph of an inventory's images. A digest listed twice is merged (tags joined, locked if
 * either copy is) and reported, so a provider glitch can never hide a tag from the planner.
 */
export function buildReferenceGraph(images: readonly Image[]): { graph: ReferenceGraph; warnings: string[] } {
  const warnings: string[] = [];
  const unique = new Map<string, Image>();
  for (const image of images) {
    const seen = unique.get(image.digest);
    if (seen === undefined) {
      unique.set(image.digest, image);
      continue;
    }
    const tags = [...new Set([...seen.tags, ...image.tags])].sort();
    unique.set(image.digest, { ...seen, tags, locked: seen.locked || image.locked });
  }
  if (unique.size !== images.length) {
    const repeated = new Set<string>();
    const once = new Set<string>();
    for (const image of images) (once.has(image.digest) ? repeated : once).add(image.digest);
    for (const digest of [...repeated].sort()) {
      warnings.push(`${digest} was listed more than once; its tags were merged and it is planned as one image`);
    }
  }

  const sorted = [...unique.values()].sort(byDigest);
  const referrersOf = new Map<string, Image[]>();
  const listedAsChild = new Set<string>();
  for (const image of sorted) {
    for (const child of image.children) if (child !== image.digest) listedAsChild.add(child);
    if (image.subject !== null && image.subject !== image.digest && unique.has(image.subject)) {
      const list = referrersOf.get(image.subject);
      if (list === undefined) referrersOf.set(image.subject, [image]);
      else list.push(image); // stays sorted: `sorted` is visited in digest order
    }
  }
  return { graph: { images: sorted, byDigest: unique, referrersOf, listedAsChild }, warnings };
}

/** The role an image plays in the graph (see `ImageRole`). */
export function roleOf(graph: ReferenceGraph, image: Image): ImageRole {
  if (image.subject !== null) {
    return image.subject !== image.digest && graph.byDigest.has(image.subject) ? 'referrer' : 'orphan-referrer';
  }
  if (image.tags.length > 0) return 'tagged-root';
  return graph.listedAsChild.has(image.digest) ? 'child' : 'untagged-root';
}

/** Digests in the inventory this manifest references: its children, then its subject. */
export function referencedBy(graph: ReferenceGraph, image: Image): string[] {
  const out: string[] = [];
  for (const child of image.children) {
    if (child !== image.digest && graph.byDigest.has(child)) out.push(child);
  }
  if (image.subject !== null && image.subject !== image.digest && graph.byDigest.has(image.subject)) {
    out.push(image.subject);
  }
  return out;
}

/**
 * Extends `kept` to a fixpoint from `seeds` (which must already be in `kept`): the children and
 * the subject of a kept manifest are kept as `referenced`, its referrers as `subject`. Breadth
 * first from seeds in digest order, so each image's reason names the nearest kept image that
 * holds it, whatever order the inventory came in.
 */
export function propagateKeep(graph: ReferenceGraph, kept: Map<string, KeepReason>, seeds: readonly string[]): void {
  const queue = [...seeds];
  const visit = (digest: string, reason: KeepReason): void => {
    if (kept.has(digest) || !graph.byDigest.has(digest)) return;
    kept.set(digest, reason);
    queue.push(digest);
  };
  for (let head = 0; head < queue.length; head++) {
    const image = graph.byDigest.get(queue[head]!)!;
    for (const digest of referencedBy(graph, image)) visit(digest, 'referenced');
    for (const referrer of graph.referrersOf.get(image.digest) ?? []) visit(referrer.digest, 'subject');
  }
}
