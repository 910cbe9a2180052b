/** Spreading "keep" from a manifest to everything that must stay with it. */
import { positionIn, type ReferenceGraph } from '../plan/references.js';

/**
 * Every digest reachable from `seeds` through children, referrers and subjects. A kept index keeps
 * its platform manifests; a kept image keeps its signatures; a kept signature keeps its subject (an
 * orphaned signature helps no one, and keeping too much is the safe mistake).
 */
export function spreadProtection(seeds: Iterable<string>, graph: ReferenceGraph): Set<string> {
  const protectedDigests = new Set<string>(seeds);
  const reached = new Uint8Array(graph.images.length);
  const queue: number[] = [];
  for (const digest of protectedDigests) {
    const at = positionIn(graph.digests, digest);
    if (at !== undefined && reached[at] === 0) {
      reached[at] = 1;
      queue.push(at);
    }
  }
  const reach = (target: number) => {
    if (reached[target] === 1) return;
    reached[target] = 1;
    protectedDigests.add(graph.digests[target]!);
    queue.push(target);
  };
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head]!;
    for (let e = graph.refFrom[at]!; e < graph.refTo[at]!; e++) reach(graph.refs[e]!);
    for (let e = graph.referrerStart[at]!; e < graph.referrerStart[at + 1]!; e++) reach(graph.referrers[e]!);
  }
  return protectedDigests;
}
