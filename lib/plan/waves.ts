/**
 * Deletion order. A registry may refuse to delete a manifest an index still lists (ECR:
 * ImageReferencedByManifestList), and a referrer deleted after its subject is left dangling. So
 * whatever references another deleted manifest goes in an earlier wave than what it references.
 */
import type { Image } from '../model.js';
import { referencedBy, type ReferenceGraph } from './references.js';

/**
 * The wave of each deleted digest: 0 when no deleted manifest references it, else one more than
 * the latest wave of those that do (the longest chain), so indexes of indexes and signatures of
 * signatures come out in order.
 */
export function assignWaves(
  graph: ReferenceGraph,
  deleted: readonly Image[],
): { waves: Map<string, number>; warnings: string[] } {
  const isDeleted = new Set(deleted.map((image) => image.digest));
  const edges = new Map<string, string[]>();
  const pending = new Map<string, number>(); // deleted referencers not yet placed, per digest
  for (const image of deleted) {
    const targets = referencedBy(graph, image).filter((digest) => isDeleted.has(digest));
    edges.set(image.digest, targets);
    for (const target of targets) pending.set(target, (pending.get(target) ?? 0) + 1);
  }

  const waves = new Map<string, number>();
  const ready = deleted.filter((image) => !pending.has(image.digest)).map((image) => image.digest);
  for (const digest of ready) waves.set(digest, 0);
  for (let head = 0; head < ready.length; head++) {
    const digest = ready[head]!;
    const next = waves.get(digest)! + 1;
    for (const target of edges.get(digest)!) {
      if ((waves.get(target) ?? -1) < next) waves.set(target, next);
      const left = pending.get(target)! - 1;
      pending.set(target, left);
      if (left === 0) ready.push(target);
    }
  }

  // Content addressing makes reference cycles impossible in a real registry; if a provider
  // reports one anyway, delete the cycle last rather than loop or drop it.
  const warnings: string[] = [];
  if (ready.length < deleted.length) {
    let last = 0;
    for (const wave of waves.values()) last = Math.max(last, wave + 1);
    const stuck = deleted.filter((image) => !waves.has(image.digest) || pending.get(image.digest)! > 0);
    for (const image of stuck) {
      waves.set(image.digest, last);
      warnings.push(`${image.digest} is part of a reference cycle (an index or referrer that leads back to itself); it is deleted in the last wave`);
    }
  }
  return { waves, warnings };
}
