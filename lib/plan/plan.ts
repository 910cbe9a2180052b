/**
 * The planner: one repository's inventory and policy in, every image's fate out. Pure: no I/O, no
 * clock (`now` is a parameter), no environment, no logging.
 */
import type { Policy } from '../config/policy.js';
import type { Image, Inventory } from '../model.js';
import { isPinned } from './pinned.js';
import { mostRecent } from './order.js';
import { buildReferenceGraph, positionIn, propagateKeep, type ImageRole } from './references.js';
import type { DeleteDecision, KeepDecision, KeepReason, Plan } from './types.js';
import { assignWaves } from './waves.js';

/** Roots are judged on their own time; children and referrers follow what holds them. */
function isRoot(role: ImageRole): boolean {
  return role === 'tagged-root' || role === 'untagged-root' || role === 'orphan-referrer';
}

/** Rules 3–5, in that order, for a root that is neither pinned nor recent. */
function timeReason(image: Image, policy: Policy, nowMs: number): KeepReason | undefined {
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
  return undefined;
}

/** The image's tags in sorted order (the same array when they already are). */
function sortedTags(image: Image): readonly string[] {
  for (let i = 1; i < image.tags.length; i++) if (image.tags[i - 1]! > image.tags[i]!) return [...image.tags].sort();
  return image.tags;
}

function describe(image: Image): string {
  return image.tags.length === 0 ? `${image.digest} (untagged)` : `${image.digest} (tags: ${sortedTags(image).join(', ')})`;
}

/** What a user should know about one image's plan: unknown push time, a subject that is not listed. */
function noticesAbout(image: Image, role: ImageRole, reason: KeepReason | undefined): string[] {
  const notices: string[] = [];
  if (image.pushedAtMs === null && isRoot(role)) {
    const effect = role === 'tagged-root' ? 'it ranks as the oldest and gets no grace period' : 'it gets no grace period';
    const because = reason === 'unmatched-age' ? '; kept, as it cannot be proven older than olderThan' : '';
    notices.push(`${describe(image)} has no known push time: ${effect}${because}`);
  }
  if (role === 'orphan-referrer') {
    notices.push(
      `${describe(image)} refers to ${image.subject}, which is not in the listing (deleted, or an untagged manifest the registry cannot list); treated as an untagged orphan`,
    );
  }
  return notices;
}

/**
 * Decides, for one repository, which manifests to keep (each with the first reason that applies)
 * and which to delete (in waves, referencers before what they reference). The caller has already
 * matched the repository to a config rule (rule 10); this function never sees unmatched ones.
 */
export function plan(inventory: Inventory, policy: Policy, now: Date): Plan {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) {
    throw new RangeError(`plan: "now" is not a valid date (${String(now)}); pass the time read at the entry point`);
  }

  const { graph, warnings } = buildReferenceGraph(inventory.images);
  const { images, roles, listing } = graph;
  const n = images.length;
  const reasons = new Array<KeepReason | undefined>(n).fill(undefined);

  // Rules 1–5: reasons an image holds on its own. One pass over the images, in listing order.
  const ranked: Image[] = [];
  const byTime = new Array<KeepReason | undefined>(n).fill(undefined);
  const locked = new Uint8Array(n);
  const noteworthy = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = listing[i]!;
    const image = images[at]!;
    const role = roles[at]!;
    if (image.tags.length > 0 && isPinned(image.tags, policy.pinned)) reasons[at] = 'pinned';
    else if (role === 'tagged-root') ranked.push(image);
    if (isRoot(role)) {
      byTime[at] = timeReason(image, policy, nowMs);
      if (image.pushedAtMs === null || role === 'orphan-referrer') noteworthy[at] = 1;
    }
    if (image.locked) locked[at] = 1;
  }
  for (const image of mostRecent(ranked, policy.order, policy.keep)) reasons[positionIn(images, image.digest)!] = 'recent';
  const seeds: number[] = [];
  for (let at = 0; at < n; at++) {
    reasons[at] ??= byTime[at];
    if (reasons[at] !== undefined) seeds.push(at);
  }
  propagateKeep(graph, reasons, seeds);

  // Rule 7: orphans nothing kept references, unless untagged manifests are to be deleted.
  if (policy.untagged === 'keep') {
    const orphans: number[] = [];
    for (let at = 0; at < n; at++) {
      if (reasons[at] !== undefined || (roles[at] !== 'untagged-root' && roles[at] !== 'orphan-referrer')) continue;
      reasons[at] = 'untagged';
      orphans.push(at);
    }
    propagateKeep(graph, reasons, orphans);
  }

  // Rule 9: what would be deleted but is locked stays, and holds what it references.
  const lockedSeeds: number[] = [];
  for (let at = 0; at < n; at++) {
    if (reasons[at] !== undefined || locked[at] === 0) continue;
    reasons[at] = 'locked';
    lockedSeeds.push(at);
  }
  propagateKeep(graph, reasons, lockedSeeds);

  for (let at = 0; at < n; at++) {
    if (noteworthy[at] === 1) warnings.push(...noticesAbout(images[at]!, roles[at]!, reasons[at]));
  }

  const isDeleted = new Uint8Array(n);
  for (let at = 0; at < n; at++) if (reasons[at] === undefined) isDeleted[at] = 1;
  const { waves, warnings: waveWarnings } = assignWaves(graph, isDeleted);
  warnings.push(...waveWarnings);

  // Decisions are made in listing order (each image read once, in memory order), then laid out
  // in digest order: kept by digest, deleted by wave and then digest.
  const keptAt = new Array<KeepDecision | undefined>(n);
  const deletedAt = new Array<DeleteDecision | undefined>(n);
  for (let i = 0; i < n; i++) {
    const at = listing[i]!;
    const image = images[at]!;
    const reason = reasons[at];
    if (reason === undefined) {
      deletedAt[at] = { digest: image.digest, tags: sortedTags(image), action: 'delete-manifest', wave: waves[at]! };
    } else {
      keptAt[at] = { digest: image.digest, tags: sortedTags(image), reason };
    }
  }
  const keep: KeepDecision[] = [];
  const byWave: DeleteDecision[][] = [];
  for (let at = 0; at < n; at++) {
    const kept = keptAt[at];
    if (kept !== undefined) keep.push(kept);
    else (byWave[waves[at]!] ??= []).push(deletedAt[at]!);
  }

  const deleted: DeleteDecision[] = [];
  for (const wave of byWave) for (const decision of wave ?? []) deleted.push(decision);

  return { registry: inventory.registry, repository: inventory.repository, keep, delete: deleted, warnings };
}
