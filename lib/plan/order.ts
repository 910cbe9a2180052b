/**
 * Rule 2: which tagged images are the most recent. By push time (`order: pushed`), or by the
 * highest semantic version among an image's tags (`order: semver`).
 */

/** A parsed semantic version (semver.org 2.0, with an optional leading `v`). Numbers stay strings: no overflow. */
export interface Semver {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Dot-separated prerelease identifiers; empty for a release. */
  readonly prerelease: readonly string[];
}

const NUMERIC = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMERIC}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const SEMVER = new RegExp(
  `^v?(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?$`,
);
const DIGITS = /^\d+$/;

/** The semantic version a tag spells (`1.2.3`, `v1.2.3-rc.1`), or `null` when it is not one (`1.2`, `latest`). */
export function parseSemver(tag: string): Semver | null {
  const match = SEMVER.exec(tag);
  if (!match) return null;
  return {
    major: match[1]!,
    minor: match[2]!,
    patch: match[3]!,
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
  };
}

/** Compares two decimal strings without leading zeros, of any length. */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifier(a: string, b: string): number {
  const aNumeric = DIGITS.test(a);
  const bNumeric = DIGITS.test(b);
  if (aNumeric && bNumeric) return compareNumeric(a, b);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1; // numeric identifiers rank below alphanumeric ones
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semver precedence: negative when `a` is lower. A prerelease is lower than its release. */
export function compareSemver(a: Semver, b: Semver): number {
  const core = compareNumeric(a.major, b.major) || compareNumeric(a.minor, b.minor) || compareNumeric(a.patch, b.patch);
  if (core !== 0) return core;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  const shared = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < shared; i++) {
    const byIdentifier = compareIdentifier(a.prerelease[i]!, b.prerelease[i]!);
    if (byIdentifier !== 0) return byIdentifier;
  }
  return a.prerelease.length - b.prerelease.length;
}

/** The highest version among the tags, or `null` when none is a version. */
export function highestSemver(tags: readonly string[]): Semver | null {
  let best: Semver | null = null;
  for (const tag of tags) {
    const version = parseSemver(tag);
    if (version !== null && (best === null || compareSemver(version, best) > 0)) best = version;
  }
  return best;
}

/** What ranking reads of an image; an `Image` is one. */
export interface RankCandidate {
  readonly digest: string;
  readonly tags: readonly string[];
  /** `null` when unknown: ranks as the oldest. */
  readonly pushedAtMs: number | null;
}

/** Newest push first; unknown times (`null`) last; then by digest so the order never depends on input order. */
function compareByPushed(a: RankCandidate, b: RankCandidate): number {
  if (a.pushedAtMs !== b.pushedAtMs) {
    if (a.pushedAtMs === null) return 1;
    if (b.pushedAtMs === null) return -1;
    return b.pushedAtMs - a.pushedAtMs;
  }
  return a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
}

interface Ranked<T extends RankCandidate> {
  readonly candidate: T;
  /** The highest version among the tags under `order: semver`; always `null` under `order: pushed`. */
  readonly version: Semver | null;
}

function rankedOf<T extends RankCandidate>(candidates: readonly T[], order: 'pushed' | 'semver'): Ranked<T>[] {
  return candidates.map((candidate) => ({
    candidate,
    version: order === 'semver' ? highestSemver(candidate.tags) : null,
  }));
}

/** Rule 2's order: higher version first (versions before non-versions), then newest push, then digest. */
function compareRanked<T extends RankCandidate>(a: Ranked<T>, b: Ranked<T>): number {
  if (a.version !== null && b.version !== null) {
    const byVersion = compareSemver(b.version, a.version);
    if (byVersion !== 0) return byVersion;
  } else if (a.version !== b.version) {
    return a.version === null ? 1 : -1; // tags that are not versions sort as oldest
  }
  return compareByPushed(a.candidate, b.candidate);
}

/** The images (or candidates) most recent first, as rule 2 ranks them. Does not modify its input. */
export function rankByRecency<T extends RankCandidate>(candidates: readonly T[], order: 'pushed' | 'semver'): T[] {
  return rankedOf(candidates, order)
    .sort(compareRanked)
    .map((entry) => entry.candidate);
}

/**
 * The first `count` of `rankByRecency(candidates, order)`, without sorting them all: a
 * repository of thousands of builds with `keep: 10` needs only its ten newest in order.
 */
export function mostRecent<T extends RankCandidate>(
  candidates: readonly T[],
  order: 'pushed' | 'semver',
  count: number,
): T[] {
  if (count <= 0) return [];
  const ranked = rankedOf(candidates, order);
  if (count * 8 >= ranked.length)
    return ranked
      .sort(compareRanked)
      .slice(0, count)
      .map((entry) => entry.candidate);
  const best: Ranked<T>[] = []; // the best seen so far, in rank order
  for (const entry of ranked) {
    if (best.length === count) {
      if (compareRanked(entry, best[count - 1]!) >= 0) continue;
      best[count - 1] = entry;
    } else {
      best.push(entry);
    }
    for (let at = best.length - 1; at > 0 && compareRanked(best[at]!, best[at - 1]!) < 0; at--) {
      const before = best[at - 1]!;
      best[at - 1] = best[at]!;
      best[at] = before;
    }
  }
  return best.map((entry) => entry.candidate);
}
