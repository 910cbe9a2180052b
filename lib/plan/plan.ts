/**
 * The planner: one repository's inventory and policy in, every image's fate out. Pure: no I/O, no
 * clock (`now` is a parameter), no environment, no logging.
 */
import type { Policy } from '../config/policy.js';
import type { Image, Inventory } from '../model.js';
import { archivedFlags } from './archived.js';
import { isPinned } from './pinned.js';
import { mostRecent, type RankCandidate } from './order.js';
import { buildReferenceGraph, propagateKeep, type ImageRole } from './references.js';
import type { DeleteDecision, InUse, KeepDecision, KeepReason, Plan } from './types.js';
import { assignWaves } from './waves.js';
import { classesOf, timeReasonFor } from './tag-classes.js';

/** Roots are judged on their own time; children and referrers follow what holds them. */
function isRoot(role: ImageRole): boolean {
  return role === 'tagged-root' || role === 'untagged-root' || role === 'orphan-referrer';
}

/** The tags in sorted order (the same array when they already are). */
function sortedTags(tags: readonly string[]): readonly string[] {
  for (let i = 1; i < tags.length; i++) if (tags[i - 1]! > tags[i]!) return [...tags].sort();
  return tags;
}

function describe(image: Image): string {
  return image.tags.length === 0
    ? `${image.digest} (untagged)`
    : `${image.digest} (tags: ${sortedTags(image.tags).join(', ')})`;
}

/** What a user should know about one image's plan: unknown push time, a subject that is not listed. */
function noticesAbout(image: Image, role: ImageRole, reason: KeepReason | undefined): string[] {
  const notices: string[] = [];
  if (image.pushedAtMs === null && isRoot(role)) {
    const effect =
      role === 'tagged-root' ? 'it ranks as the oldest and gets no grace period' : 'it gets no grace period';
    const because = reason === 'unmatched-age' ? '; kept, as it cannot be proven older than olderThan' : '';
    notices.push(`${describe(image)} has no known push time: ${effect}${because}`);
  }
  if (role === 'orphan-referrer') {
    notices.push(
      `${describe(image)} refers to ${image.subject}, which is not in the listing (deleted, or an untagged manifest ` +
        `the registry cannot list); treated as an untagged orphan`,
    );
  }
  return notices;
}

/** Who uses an image: by its digest, or by a tag on it; sorted, each once. */
function usersOf(digest: string, imageTags: readonly string[], inUse: InUse): readonly string[] {
  const users = new Set(inUse.digests.get(digest));
  for (const tag of imageTags) for (const user of inUse.tags.get(tag) ?? []) users.add(user);
  return [...users].sort();
}

/** A tagged image in the running for rule 2, by position. */
interface Candidate extends RankCandidate {
  readonly at: number;
}

/**
 * Rule 2 per tag class: each class's `keep` most recent of the candidates it holds, and the rule's
 * `keep` most recent of those with a tag no class matches. Without classes, the rule's `keep` over them all.
 */
function mostRecentByClass(candidates: readonly Candidate[], policy: Policy): Candidate[] {
  const classes = policy.classes ?? [];
  if (classes.length === 0) return mostRecent(candidates, policy.order, policy.keep);
  const members: Candidate[][] = classes.map(() => []);
  const unclassified: Candidate[] = [];
  for (const candidate of candidates) {
    const { held, rest } = classesOf(candidate.tags, classes);
    if (rest) unclassified.push(candidate);
    for (const index of held) members[index]!.push(candidate);
  }
  const recent = mostRecent(unclassified, policy.order, policy.keep);
  classes.forEach((tagClass, index) => {
    recent.push(...mostRecent(members[index]!, policy.order, tagClass.keep));
  });
  return recent;
}

/**
 * Decides, for one repository, which manifests to keep (each with the first reason that applies)
 * and which to delete (in waves, referencers before what they reference). The caller has already
 * matched the repository to a config rule (rule 10); this function never sees unmatched ones.
 */
export function plan(inventory: Inventory, policy: Policy, now: Date, inUse?: InUse): Plan {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) {
    throw new RangeError(`plan: "now" is not a valid date (${String(now)}); pass the time read at the entry point`);
  }

  const { graph, warnings } = buildReferenceGraph(inventory.images);
  const { images, roles, listing, digests, tags, pushedAtMs, lastPulledAtMs } = graph;
  const n = images.length;
  const reasons = new Array<KeepReason | undefined>(n).fill(undefined);

  // Rule 0: what runs or will run is kept, whatever its rank, and never counts toward `keep`.
  const usedBy = new Map<number, readonly string[]>();
  if (inUse !== undefined) {
    for (let at = 0; at < n; at++) {
      const users = usersOf(digests[at]!, tags[at]!, inUse);
      if (users.length === 0) continue;
      reasons[at] = 'in-use';
      usedBy.set(at, users);
    }
  }

  // Rule 16: archived images never count toward keep; under `archived: keep` they are kept.
  const archived = archivedFlags(images);
  const keepArchived = policy.archived !== 'delete';

  // Rules 1–5: reasons an image holds on its own. Tags are walked in listing (memory) order.
  const candidates: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    const at = listing[i]!;
    const imageTags = tags[at]!;
    if (reasons[at] !== undefined) continue;
    if (imageTags.length > 0 && isPinned(imageTags, policy.pinned)) reasons[at] = 'pinned';
    else if (archived !== null && archived[at] === 1) {
      if (keepArchived) reasons[at] = 'archived';
    } else if (imageTags.length > 0 && roles[at] === 'tagged-root') {
      const pushed = pushedAtMs[at]!;
      candidates.push({ at, digest: digests[at]!, tags: imageTags, pushedAtMs: Number.isNaN(pushed) ? null : pushed });
    }
  }
  for (const candidate of mostRecentByClass(candidates, policy)) reasons[candidate.at] = 'recent';
  const seeds: number[] = [];
  for (let at = 0; at < n; at++) {
    if (reasons[at] === undefined && isRoot(roles[at]!)) {
      reasons[at] = timeReasonFor(tags[at]!, pushedAtMs[at]!, lastPulledAtMs[at]!, policy, nowMs);
    }
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
    if (reasons[at] !== undefined || graph.locked[at] === 0) continue;
    reasons[at] = 'locked';
    lockedSeeds.push(at);
  }
  propagateKeep(graph, reasons, lockedSeeds);

  for (let at = 0; at < n; at++) {
    const role = roles[at]!;
    if (role === 'orphan-referrer' || (Number.isNaN(pushedAtMs[at]!) && isRoot(role))) {
      warnings.push(...noticesAbout(images[at]!, role, reasons[at]));
    }
  }

  const isDeleted = new Uint8Array(n);
  for (let at = 0; at < n; at++) if (reasons[at] === undefined) isDeleted[at] = 1;
  const { waves, warnings: waveWarnings } = assignWaves(graph, isDeleted);
  warnings.push(...waveWarnings);

  // Kept by digest; deleted by wave, then digest. Built from the graph's arrays: no image object
  // is read again.
  const keep: KeepDecision[] = [];
  const byWave: DeleteDecision[][] = [];
  for (let at = 0; at < n; at++) {
    const reason = reasons[at];
    if (reason !== undefined) {
      const users = usedBy.get(at);
      const locks = reason === 'locked' ? images[at]!.locks : undefined;
      keep.push({
        digest: digests[at]!,
        tags: sortedTags(tags[at]!),
        reason,
        ...(users ? { usedBy: users } : {}),
        ...(locks ? { locks } : {}),
      });
    } else {
      const wave = waves[at]!;
      (byWave[wave] ??= []).push({
        digest: digests[at]!,
        tags: sortedTags(tags[at]!),
        action: 'delete-manifest',
        wave,
      });
    }
  }
  const deleted: DeleteDecision[] = [];
  for (const wave of byWave) for (const decision of wave ?? []) deleted.push(decision);

  return { registry: inventory.registry, repository: inventory.repository, keep, delete: deleted, warnings };
}
