/**
 * Tag classes inside a repository (docs/retention.md, "Tag classes"): each class ranks its own
 * images for `keep` and judges their age with its own fields; an image is kept when any class
 * that holds it keeps it. Tags no class matches form the rule's own class.
 */
import type { Policy, TagClassPolicy } from '../config/policy.js';
import type { KeepReason } from './types.js';

/** What judges an image's time: the rule's own fields, or a class's. */
export type TimeRules = Pick<TagClassPolicy, 'minAgeMs' | 'keepPulledWithinMs' | 'olderThanMs'>;

/**
 * The classes holding an image with these tags, as indexes into `classes`; empty when none does
 * (the image is then judged by the rule's own fields).
 */
export function classesOf(tags: readonly string[], classes: readonly TagClassPolicy[]): number[] {
  const held: number[] = [];
  classes.forEach((tagClass, index) => {
    if (tags.some((tag) => tagClass.match.test(tag))) held.push(index);
  });
  return held;
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
 * Rules 3–5 for an image with these tags: under each class holding it, the first reason in the
 * order grace, pulled, unmatched-age that any class gives (any class keeping it keeps it).
 */
export function timeReasonFor(
  tags: readonly string[],
  pushedAtMs: number,
  lastPulledAtMs: number,
  policy: Policy,
  nowMs: number,
): KeepReason | undefined {
  const classes = policy.classes ?? [];
  const held = classes.length === 0 ? [] : classesOf(tags, classes);
  if (held.length === 0) return timeReasonUnder(pushedAtMs, lastPulledAtMs, policy, nowMs);
  let best: KeepReason | undefined;
  for (const index of held) {
    const reason = timeReasonUnder(pushedAtMs, lastPulledAtMs, classes[index]!, nowMs);
    if (reason !== undefined && (best === undefined || TIME_PRECEDENCE.indexOf(reason) < TIME_PRECEDENCE.indexOf(best)))
      best = reason;
  }
  return best;
}
