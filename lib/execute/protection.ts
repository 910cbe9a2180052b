/** Spreading "keep" from a manifest to everything that must stay with it. */
import type { ReferenceGraph } from './graph.js';

/**
 * Every digest reachable from `seeds` through children, referrers and subjects. A kept index keeps
 * its platform manifests; a kept image keeps its signatures; a kept signature keeps its subject (an
 * orphaned signature helps no one, and keeping too much is the safe mistake).
 */
export function spreadProtection(seeds: Iterable<string>, graph: ReferenceGraph): Set<string> {
  const protectedDigests = new Set<string>();
  const queue = [...seeds];
  while (queue.length > 0) {
    const digest = queue.pop()!;
    if (protectedDigests.has(digest)) continue;
    protectedDigests.add(digest);
    queue.push(...graph.childrenOf(digest), ...graph.referrersOf(digest));
    const subject = graph.subjectOf(digest);
    if (subject !== null) queue.push(subject);
  }
  return protectedDigests;
}
