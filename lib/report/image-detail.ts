/**
 * Why each image of a repository is kept or deleted, in words a person can check against the
 * registry: push time, rank among the rule's candidates, and the reason with its figures
 * (`recent: 2 of 10`, `rank 12 > keep 10`, `follows index sha256:ab12…`). Read from the plan's
 * decisions, never decided again: the planner's reason is the fact, this only adds its numbers.
 */
import type { Policy } from '../config/policy.js';
import type { Image, Inventory } from '../model.js';
import { isPinned, rankByRecency } from '../plan/index.js';
import type { KeepReason } from '../plan/types.js';

/** What the report adds to a kept or deleted entry (additive to report v1). */
export interface ImageDetail {
  /** ISO 8601 push time, or null when the registry gave none. */
  readonly pushedAt: string | null;
  /** 1 = the newest of the tagged, unpinned images by the rule's `order`; absent for others. */
  readonly rank?: number;
  /** The reason in words: `pinned: latest`, `recent: 2 of 10`, `rank 12 > keep 10`, `follows index sha256:…`. */
  readonly why: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** `3d`, `5h`, `20m`: a duration from the config, as written there. */
export function formatDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  return `${Math.round(ms / 60_000)}m`;
}

function short(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return hex === undefined ? digest.slice(0, 19) : `${algorithm}:${hex.slice(0, 12)}…`;
}

/**
 * The same words for every image that shares them (`rank 12 > keep 10` recurs in every repository):
 * a report of a million entries holds one copy of each, not a million (issue 12, "Memory").
 */
const WORDS = new Map<string, string>();
const MAX_WORDS = 10_000;

function interned(words: string): string {
  const known = WORDS.get(words);
  if (known !== undefined) return known;
  if (WORDS.size < MAX_WORDS) WORDS.set(words, words);
  return words;
}

/** Details of every image in `inventory`, by digest. `kept` and `deleted` are the final fates. */
export function imageDetails(
  inventory: Inventory,
  policy: Policy,
  kept: ReadonlyMap<string, KeepReason>,
  deleted: ReadonlySet<string>,
): Map<string, ImageDetail> {
  const images = inventory.images;
  const byDigest = new Map(images.map((image) => [image.digest, image]));
  const parentsOf = new Map<string, Image[]>();
  for (const image of images) {
    for (const child of image.children) parentsOf.set(child, [...(parentsOf.get(child) ?? []), image]);
  }
  const isChild = (image: Image) => parentsOf.has(image.digest);
  const candidates = images.filter(
    (image) =>
      image.tags.length > 0 &&
      image.subject === null &&
      !isChild(image) &&
      !isPinned(image.tags, policy.pinned) &&
      // In-use and archived images do not count toward keep (rules 0 and 16): they take no rank.
      kept.get(image.digest) !== 'in-use' &&
      kept.get(image.digest) !== 'archived',
  );
  const ranks = new Map(rankByRecency(candidates, policy.order).map((image, index) => [image.digest, index + 1]));
  const details = new Map<string, ImageDetail>();
  for (const image of images) {
    const rank = ranks.get(image.digest);
    const reason = kept.get(image.digest);
    const why =
      reason !== undefined
        ? keptWhy(image, reason, rank, policy, parentsOf, kept)
        : deleted.has(image.digest)
          ? deletedWhy(image, rank, policy, parentsOf, byDigest, deleted)
          : 'not decided';
    details.set(image.digest, {
      pushedAt: image.pushedAtMs === null ? null : new Date(image.pushedAtMs).toISOString(),
      ...(rank !== undefined ? { rank } : {}),
      why: interned(why),
    });
  }
  return details;
}

function keptWhy(
  image: Image,
  reason: KeepReason,
  rank: number | undefined,
  policy: Policy,
  parentsOf: ReadonlyMap<string, Image[]>,
  kept: ReadonlyMap<string, KeepReason>,
): string {
  switch (reason) {
    case 'in-use':
      return 'in use: something runs it (usedBy names what)';
    case 'archived':
      return 'archived: in an archive storage class, and the rule says archived: keep';
    case 'pinned': {
      const tag = image.tags.find((candidate) => isPinned([candidate], policy.pinned));
      return `pinned: ${tag ?? image.tags.join(', ')}`;
    }
    case 'recent':
      return rank !== undefined ? `recent: ${rank} of ${policy.keep}` : `recent: within keep ${policy.keep}`;
    case 'grace':
      return `grace: younger than minAge ${formatDuration(policy.minAgeMs)}`;
    case 'pulled':
      return policy.keepPulledWithinMs === null
        ? 'pulled recently'
        : `pulled within ${formatDuration(policy.keepPulledWithinMs)}`;
    case 'unmatched-age':
      return policy.olderThanMs === null
        ? 'not old enough'
        : `not older than olderThan ${formatDuration(policy.olderThanMs)}`;
    case 'referenced': {
      const parent = (parentsOf.get(image.digest) ?? []).find((candidate) => kept.has(candidate.digest));
      return parent ? `referenced: by index ${short(parent.digest)}` : 'referenced: a kept tag or index points at it';
    }
    case 'subject':
      return image.subject ? `subject ${short(image.subject)} is kept` : 'its subject is kept';
    case 'untagged':
      return 'untagged: the rule keeps untagged manifests';
    case 'locked':
      return 'locked: the registry refuses to delete it';
  }
}

function deletedWhy(
  image: Image,
  rank: number | undefined,
  policy: Policy,
  parentsOf: ReadonlyMap<string, Image[]>,
  byDigest: ReadonlyMap<string, Image>,
  deleted: ReadonlySet<string>,
): string {
  const parent = (parentsOf.get(image.digest) ?? []).find((candidate) => deleted.has(candidate.digest));
  if (parent) return `follows index ${short(parent.digest)}`;
  if (image.subject !== null) {
    return byDigest.has(image.subject)
      ? `follows subject ${short(image.subject)}`
      : `orphan referrer: subject ${short(image.subject)} is not listed`;
  }
  if (image.tags.length === 0) return 'untagged';
  const older = policy.olderThanMs === null ? '' : `, older than ${formatDuration(policy.olderThanMs)}`;
  return rank !== undefined
    ? `rank ${rank} > keep ${policy.keep}${older}`
    : `not among the ${policy.keep} kept${older}`;
}
