/**
 * Tag classes inside a repository (docs/retention.md, "Tag classes"): each class ranks its own
 * images for `keep` and judges their age with its own fields; an image is kept when any class
 * that holds it keeps it. Tags no class matches (and untagged manifests) are in the rule's own class.
 */
import type { Policy, TagClassPolicy } from '../config/policy.js';
import type { KeepReason } from './types.js';

/** What judges an image's time: the rule's own fields, or a class's. */
export type TimeRules = Pick<TagClassPolicy, 'minAgeMs' | 'keepPulledWithinMs' | 'olderThanMs'>;

/** The classes an image is in: by index into `classes`, and the rule's own class (`rest`). */
export interface Membership {
  readonly held: readonly number[];
  /** True when one of its tags matches no class, or it has no tags: the rule's own fields judge it too. */
  readonly rest: boolean;
}

/**
 * The classes holding an image with these tags: each class one of its tags matches, and the
 * rule's own class when a tag matches none (so a tag outside every class protects its image as
 * the rule says, as a tag of an image without classes would).
 */
export function classesOf(tags: readonly string[], classes: readonly TagClassPolicy[]): Membership {
  const held = new Set<number>();
  let rest = tags.length === 0;
  for (const tag of tags) {
    let matched = false;
    classes.forEach((tagClass, index) => {
      if (tagClass.match.test(tag)) {
        held.add(index);
        matched = true;
      }
    });
    if (!matched) rest = true;
  }
  return { held: [...held].sort((a, b) => a - b), rest };
}

/** Rules 3–5 for one set of time rules. Times are epoch ms, `NaN` when unknown. */
export function timeReasonUnder(
  pushedAtMs: number,
  lastPulledAtMs: number,
  rules: TimeRules,
  nowMs: number,
): KeepReason | undefined {
  // Comparisons with NaN are false: an unknown push time is never in grace, an unknown pull never recent.
  if (nowMs - pushedAtMs < rules.minAgeMs) return 'grace';
  if (rules.keepPulledWithinMs !== null && nowMs - lastPulledAtMs <= rules.keepPulledWithinMs) return 'pulled';
  if (rules.olderThanMs !== null && !(nowMs - pushedAtMs > rules.olderThanMs)) return 'unmatched-age';
  return undefined;
}

const TIME_PRECEDENCE: readonly KeepReason[] = ['grace', 'pulled', 'unmatched-age'];

/**
 * Rules 3–5 for an image with these tags: under each class holding it (the rule's own included),
 * the first reason in the order grace, pulled, unmatched-age that any class gives (any class
 * keeping it keeps it).
 */
export function timeReasonFor(
  tags: readonly string[],
  pushedAtMs: number,
  lastPulledAtMs: number,
  policy: Policy,
  nowMs: number,
): KeepReason | undefined {
  const classes = policy.classes ?? [];
  if (classes.length === 0) return timeReasonUnder(pushedAtMs, lastPulledAtMs, policy, nowMs);
  const { held, rest } = classesOf(tags, classes);
  const judges: TimeRules[] = held.map((index) => classes[index]!);
  if (rest) judges.push(policy);
  let best: KeepReason | undefined;
  for (const judge of judges) {
    const reason = timeReasonUnder(pushedAtMs, lastPulledAtMs, judge, nowMs);
    if (reason !== undefined && (best === undefined || TIME_PRECEDENCE.indexOf(reason) < TIME_PRECEDENCE.indexOf(best)))
      best = reason;
  }
  return best;
}
