/**
 * Deletion order. A registry may refuse to delete a manifest an index still lists (ECR:
 * ImageReferencedByManifestList), and a referrer deleted after its subject is left dangling. So
 * whatever references another deleted manifest goes in an earlier wave than what it references.
 */
import type { ReferenceGraph } from './references.js';
import type { DeleteDecision } from './types.js';

/**
 * The wave of each deleted position (`-1` for kept ones): 0 when no deleted manifest references
 * it, else one more than the latest wave of those that do (the longest chain), so indexes of
 * indexes and signatures of signatures come out in order.
 */
export function assignWaves(graph: ReferenceGraph, isDeleted: Uint8Array): { waves: Int32Array; warnings: string[] } {
  const n = graph.images.length;
  const waves = new Int32Array(n).fill(-1);
  const pending = new Int32Array(n); // deleted referencers not yet placed
  for (let at = 0; at < n; at++) {
    if (isDeleted[at] !== 1) continue;
    for (let e = graph.refFrom[at]!; e < graph.refTo[at]!; e++) {
      if (isDeleted[graph.refs[e]!] === 1) pending[graph.refs[e]!]!++;
    }
  }
  const ready: number[] = [];
  let deleted = 0;
  for (let at = 0; at < n; at++) {
    if (isDeleted[at] !== 1) continue;
    deleted++;
    if (pending[at] === 0) {
      waves[at] = 0;
      ready.push(at);
    }
  }
  for (let head = 0; head < ready.length; head++) {
    const at = ready[head]!;
    const next = waves[at]! + 1;
    for (let e = graph.refFrom[at]!; e < graph.refTo[at]!; e++) {
      const target = graph.refs[e]!;
      if (isDeleted[target] !== 1) continue;
      if (waves[target]! < next) waves[target] = next;
      if (--pending[target]! === 0) ready.push(target);
    }
  }

  // Content addressing makes reference cycles impossible in a real registry; if a provider
  // reports one anyway, delete the cycle last rather than loop or drop it.
  const warnings: string[] = [];
  if (ready.length < deleted) {
    let last = 0;
    for (const at of ready) last = Math.max(last, waves[at]! + 1);
    for (let at = 0; at < n; at++) {
      if (isDeleted[at] !== 1 || pending[at] === 0) continue;
      waves[at] = last;
      warnings.push(
        `${graph.digests[at]!} is part of a reference cycle (an index or referrer that leads back to itself); it is ` +
          `deleted in the last wave`,
      );
    }
  }
  return { waves, warnings };
}

/** Decisions grouped by `wave`, lowest first, for the executor; input order kept within a wave. */
export function groupByWave(decisions: readonly DeleteDecision[]): DeleteDecision[][] {
  const waves = new Map<number, DeleteDecision[]>();
  for (const decision of decisions) {
    const wave = waves.get(decision.wave);
    if (wave) wave.push(decision);
    else waves.set(decision.wave, [decision]);
  }
  return [...waves.entries()].sort(([a], [b]) => a - b).map(([, wave]) => wave);
}
