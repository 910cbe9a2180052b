/**
 * The planner: one repository's inventory and policy in, every image's fate out. Pure: no I/O, no
 * clock (`now` is a parameter), no environment, no logging.
 */
import type { Policy } from '../config/policy.js';
import type { Image, Inventory } from '../model.js';
import { isPinned } from './pinned.js';
import { rankByRecency } from './order.js';
import { buildReferenceGraph, propagateKeep, roleOf, type ImageRole } from './references.js';
import type { DeleteDecision, KeepDecision, KeepReason, Plan } from './types.js';
import { assignWaves } from './waves.js';

function describe(image: Image): string {
  return image.tags.length === 0 ? `${image.digest} (untagged)` : `${image.digest} (tags: ${sortedTags(image).join(', ')})`;
}

/** Roots are judged on their own time; children and referrers follow what holds them. */
function isRoot(role: ImageRole): boolean {
  return role === 'tagged-root' || role === 'untagged-root' || role === 'orphan-referrer';
}

/** Rules 3–5, in that order, for a root that is neither pinned nor recent. */
function timeReason(image: Image, policy: Policy, nowMs: number): KeepReason | null {
  if (image.pushedAtMs !== null && nowMs - image.pushedAtMs < policy.minAgeMs) return 'grace';
  if (
    policy.keepPulledWithinMs !== null &&
    image.lastPulledAtMs !== null &&
    nowMs - image.lastPulledAtMs <= policy.keepPulledWithinMs
  ) {
    return 'pulled';
  }
  if (policy.olderThanMs !== null && (image.pushedAtMs === null || nowMs - image.pushedAtMs <= policy.olderThanMs)) {
    return 'unmatched-age';
  }
  return null;
}

function sortedTags(image: Image): readonly string[] {
  for (let i = 1; i < image.tags.length; i++) if (image.tags[i - 1]! > image.tags[i]!) return [...image.tags].sort();
  return image.tags;
}

/**
 * Decides, for one repository, which manifests to keep (each with the first reason that applies)
 * and which to delete (in waves, referencers before what they reference). The caller has already
 * matched the repository to a config rule (rule 10); this function never sees unmatched ones.
 */
export function plan(inventory: Inventory, policy: Policy, now: Date): Plan {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError(`plan: "now" is not a valid date (${String(now)}); pass the time read at the entry point`);

  const { graph, warnings } = buildReferenceGraph(inventory.images);
  const roles = new Map<string, ImageRole>();
  for (const image of graph.images) roles.set(image.digest, roleOf(graph, image));

  // Rules 1–5: reasons an image holds on its own.
  const kept = new Map<string, KeepReason>();
  const ranked: Image[] = [];
  for (const image of graph.images) {
    const role = roles.get(image.digest)!;
    if (isPinned(image.tags, policy.pinned)) kept.set(image.digest, 'pinned');
    else if (role === 'tagged-root') ranked.push(image);
  }
  const recent = rankByRecency(ranked, policy.order).slice(0, policy.keep);
  for (const image of recent) kept.set(image.digest, 'recent');
  for (const image of graph.images) {
    if (kept.has(image.digest) || !isRoot(roles.get(image.digest)!)) continue;
    const reason = timeReason(image, policy, nowMs);
    if (reason !== null) kept.set(image.digest, reason);
  }
  propagateKeep(graph, kept, [...kept.keys()].sort());

  // Rule 7: orphans nothing kept references, unless untagged manifests are to be deleted.
  if (policy.untagged === 'keep') {
    const orphans: string[] = [];
    for (const image of graph.images) {
      const role = roles.get(image.digest)!;
      if (kept.has(image.digest) || (role !== 'untagged-root' && role !== 'orphan-referrer')) continue;
      kept.set(image.digest, 'untagged');
      orphans.push(image.digest);
    }
    propagateKeep(graph, kept, orphans);
  }

  // Rule 9: what would be deleted but is locked stays, and holds what it references.
  const locked: string[] = [];
  for (const image of graph.images) {
    if (kept.has(image.digest) || !image.locked) continue;
    kept.set(image.digest, 'locked');
    locked.push(image.digest);
  }
  propagateKeep(graph, kept, locked);

  for (const image of graph.images) {
    const role = roles.get(image.digest)!;
    if (image.pushedAtMs === null && isRoot(role)) {
      const effect = role === 'tagged-root' ? 'it ranks as the oldest and gets no grace period' : 'it gets no grace period';
      const because = kept.get(image.digest) === 'unmatched-age' ? '; kept, as it cannot be proven older than olderThan' : '';
      warnings.push(`${describe(image)} has no known push time: ${effect}${because}`);
    }
    if (role === 'orphan-referrer') {
      warnings.push(
        `${describe(image)} refers to ${image.subject}, which is not in the listing (deleted, or an untagged manifest the registry cannot list); treated as an untagged orphan`,
      );
    }
  }

  const keep: KeepDecision[] = [];
  const doomed: Image[] = [];
  for (const image of graph.images) {
    const reason = kept.get(image.digest);
    if (reason === undefined) doomed.push(image);
    else keep.push({ digest: image.digest, tags: sortedTags(image), reason });
  }
  const ordered = assignWaves(graph, doomed);
  warnings.push(...ordered.warnings);
  const deleted: DeleteDecision[] = doomed.map((image) => ({
    digest: image.digest,
    tags: sortedTags(image),
    action: 'delete-manifest',
    wave: ordered.waves.get(image.digest)!,
  }));
  // `doomed` is in digest order and the sort is stable: by wave, then by digest.
  deleted.sort((a, b) => a.wave - b.wave);

  return { registry: inventory.registry, repository: inventory.repository, keep, delete: deleted, warnings };
}
