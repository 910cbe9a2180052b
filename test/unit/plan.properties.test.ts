/**
 * Properties of the planner over generated repositories: shared digests (several tags), indexes
 * with children (nested too), referrers (tagged and untagged, some whose subject is missing),
 * untagged orphans, locked images, unknown push and pull times, and every policy knob.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../lib/config/policy.js';
import { matchesAny } from '../../lib/config/pattern.js';
import type { Image, Inventory } from '../../lib/model.js';
import { isPinned, plan, rankByRecency, type Plan } from '../../lib/plan/index.js';
import { HOUR_MS, NOW, cosignTag, digestOf, image, inventory, policy } from '../support/builders.js';

const TAG_POOL = [
  'latest',
  'stable',
  'main',
  '1.0.0',
  'v1.2.0',
  '2.0.0-rc.1',
  'v2.0.0',
  '1.2',
  'release-1',
  'release-2',
  'b1',
  'b2',
  'b3',
  'b4',
  'b5',
  'b6',
];

type Shape = 'image' | 'index' | 'referrer' | 'stray-referrer';

const imageSpec = fc.record({
  shape: fc.constantFrom<Shape>('image', 'image', 'image', 'index', 'referrer', 'stray-referrer'),
  tags: fc.subarray(TAG_POOL, { maxLength: 3 }),
  cosignTagged: fc.boolean(),
  /** Hours before NOW; negative is a clock-skewed future push; null is unknown. */
  pushedHoursAgo: fc.option(fc.integer({ min: -5, max: 24 * 60 }), { nil: null }),
  pulledHoursAgo: fc.option(fc.integer({ min: 0, max: 24 * 30 }), { nil: null }),
  locked: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  /** Picks among earlier images (mod their count), so references never form a cycle. */
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
});

/** A repository: image i may reference only images j < i, as content addressing guarantees. */
const repository = fc.array(imageSpec, { maxLength: 24 }).map((specs): Image[] => {
  const claimed = new Set<string>();
  return specs.map((spec, i) => {
    const tags = spec.tags.filter((tag) => !claimed.has(tag));
    for (const tag of tags) claimed.add(tag);
    const earlier = spec.picks.filter(() => i > 0).map((pick) => digestOf(`g${pick % i}`));
    const common = {
      name: `g${i}`,
      tags,
      pushedAt: spec.pushedHoursAgo === null ? null : new Date(NOW.getTime() - spec.pushedHoursAgo * HOUR_MS),
      pulledAt: spec.pulledHoursAgo === null ? null : new Date(NOW.getTime() - spec.pulledHoursAgo * HOUR_MS),
      locked: spec.locked,
    };
    if (spec.shape === 'index' && earlier.length > 0)
      return image({ ...common, kind: 'index', children: [...new Set(earlier)] });
    if (spec.shape === 'referrer' && earlier.length > 0) {
      const subject = earlier[0]!;
      return image({
        ...common,
        kind: 'artifact',
        subject,
        tags: spec.cosignTagged ? [...tags, cosignTag(subject)] : tags,
      });
    }
    if (spec.shape === 'stray-referrer')
      return image({ ...common, kind: 'artifact', subject: digestOf(`missing-${i}`) });
    return image(common);
  });
});

const policies = fc
  .record({
    keep: fc.integer({ min: 0, max: 6 }),
    pinned: fc.subarray(['latest', 'release-*', '/^v\\d+\\.\\d+\\.\\d+$/']),
    minAge: fc.constantFrom('0s', '1d', '3d'),
    untagged: fc.constantFrom<Policy['untagged']>('keep', 'delete'),
    order: fc.constantFrom<Policy['order']>('pushed', 'semver'),
    keepPulledWithin: fc.constantFrom(null, '7d'),
    olderThan: fc.constantFrom(null, '10d', '40d'),
  })
  .map((spec) => policy(spec));

/** Shuffles deterministically by generated sort keys. */
const shuffled = <T>(items: readonly T[], keys: readonly number[]): T[] =>
  items
    .map((item, i) => ({ item, key: keys[i] ?? 0, i }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map((entry) => entry.item);

const deletedSet = (result: Plan): Set<string> => new Set(result.delete.map((d) => d.digest));
const keptSet = (result: Plan): Set<string> => new Set(result.keep.map((k) => k.digest));

/** Tagged images that are not referrers, not pinned, newest first (unknown time last, then digest). */
function unpinnedTaggedRootsByPush(images: readonly Image[], rules: Policy): Image[] {
  return images
    .filter(
      (img) => img.tags.length > 0 && img.subject === null && !img.tags.some((tag) => matchesAny(tag, rules.pinned)),
    )
    .sort((a, b) => (b.pushedAtMs ?? -Infinity) - (a.pushedAtMs ?? -Infinity) || (a.digest < b.digest ? -1 : 1));
}

function planOf(images: readonly Image[], rules: Policy): Plan {
  return plan(inventory(images), rules, NOW);
}

const RUNS = { numRuns: 300 };

describe('planner properties', () => {
  it('puts every listed digest in exactly one of keep and delete', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const result = planOf(images, rules);

        const decided = [...result.keep.map((k) => k.digest), ...result.delete.map((d) => d.digest)].sort();
        expect(decided).toEqual(images.map((img) => img.digest).sort());
      }),
      RUNS,
    );
  });

  it('always keeps an image with a pinned tag', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const result = planOf(images, rules);

        const kept = keptSet(result);
        for (const img of images) {
          if (img.tags.some((tag) => matchesAny(tag, rules.pinned))) expect(kept.has(img.digest)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('keeps the keep most recent unpinned tagged images (order: pushed), and labels exactly those recent', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const byPush: Policy = { ...rules, order: 'pushed' };

        const result = planOf(images, byPush);

        const expected = unpinnedTaggedRootsByPush(images, byPush)
          .slice(0, byPush.keep)
          .map((img) => img.digest);
        const recent = result.keep.filter((k) => k.reason === 'recent').map((k) => k.digest);
        expect(recent.sort()).toEqual(expected.sort());
      }),
      RUNS,
    );
  });

  it('keeps the keep highest-ranked unpinned tagged images (order: semver)', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const bySemver: Policy = { ...rules, order: 'semver' };
        const candidates = images.filter(
          (img) =>
            img.tags.length > 0 && img.subject === null && !img.tags.some((tag) => matchesAny(tag, bySemver.pinned)),
        );

        const result = planOf(images, bySemver);

        const kept = keptSet(result);
        for (const img of rankByRecency(candidates, 'semver').slice(0, bySemver.keep))
          expect(kept.has(img.digest)).toBe(true);
      }),
      RUNS,
    );
  });

  it('never deletes a child of a kept index or the subject of a kept referrer', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const result = planOf(images, rules);

        const kept = keptSet(result);
        const deleted = deletedSet(result);
        for (const img of images.filter((i) => kept.has(i.digest))) {
          for (const child of img.children) expect(deleted.has(child)).toBe(false);
          if (img.subject !== null) expect(deleted.has(img.subject)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('never deletes the referrer of a kept manifest, nor a locked one', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const result = planOf(images, rules);

        const kept = keptSet(result);
        const deleted = deletedSet(result);
        for (const img of images) {
          if (img.subject !== null && kept.has(img.subject)) expect(deleted.has(img.digest)).toBe(false);
          if (img.locked) expect(deleted.has(img.digest)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('leaves every kept tag resolving after the plan is applied', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const tagToDigest = new Map(images.flatMap((img) => img.tags.map((tag) => [tag, img.digest] as const)));

        const result = planOf(images, rules);

        const remaining = new Set(images.map((img) => img.digest).filter((digest) => !deletedSet(result).has(digest)));
        for (const decision of result.keep) {
          for (const tag of decision.tags) expect(remaining.has(tagToDigest.get(tag)!)).toBe(true);
        }
        const keptTags = new Set(result.keep.flatMap((k) => k.tags));
        for (const decision of result.delete) for (const tag of decision.tags) expect(keptTags.has(tag)).toBe(false);
        for (const img of images.filter((i) => remaining.has(i.digest))) {
          expect(result.keep.find((k) => k.digest === img.digest)?.tags).toEqual([...img.tags].sort());
        }
      }),
      RUNS,
    );
  });

  it('deletes nothing when planning again over what the plan leaves (same now)', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const first = planOf(images, rules);
        const left = images.filter((img) => !deletedSet(first).has(img.digest));

        const second = planOf(left, rules);

        expect(second.delete).toEqual([]);
      }),
      RUNS,
    );
  });

  it('plans the same whatever order the inventory lists images in', () => {
    fc.assert(
      fc.property(
        repository,
        policies,
        fc.array(fc.integer(), { minLength: 24, maxLength: 24 }),
        (images, rules, keys) => {
          const original = planOf(images, rules);

          const reordered = planOf(shuffled(images, keys), rules);

          expect(reordered).toEqual(original);
        },
      ),
      RUNS,
    );
  });

  it('never deletes more when keep is raised', () => {
    fc.assert(
      fc.property(repository, policies, fc.integer({ min: 1, max: 5 }), (images, rules, more) => {
        const before = deletedSet(planOf(images, rules));

        const after = deletedSet(planOf(images, { ...rules, keep: rules.keep + more }));

        for (const digest of after) expect(before.has(digest)).toBe(true);
      }),
      RUNS,
    );
  });

  it('deletes every referencer in an earlier wave than the deleted manifests it references', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const result = planOf(images, rules);

        const waveOf = new Map(result.delete.map((d) => [d.digest, d.wave]));
        for (const img of images) {
          const wave = waveOf.get(img.digest);
          if (wave === undefined) continue;
          for (const target of [...img.children, ...(img.subject === null ? [] : [img.subject])]) {
            const targetWave = waveOf.get(target);
            if (targetWave !== undefined) expect(wave).toBeLessThan(targetWave);
          }
        }
        const order = result.delete.map((d) => [d.wave, d.digest] as const);
        expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)));
      }),
      RUNS,
    );
  });

  it('warns about every tagged or orphan image whose push time is unknown', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const childDigests = new Set(images.flatMap((img) => img.children));
        const subjects = new Set(images.map((img) => img.digest));
        const judgedOnTime = images.filter(
          (img) =>
            img.pushedAtMs === null &&
            (img.subject === null ? img.tags.length > 0 || !childDigests.has(img.digest) : !subjects.has(img.subject)),
        );

        const result = planOf(images, rules);

        for (const img of judgedOnTime) {
          expect(result.warnings.some((w) => w.startsWith(img.digest) && w.includes('no known push time'))).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

describe('generated repositories', () => {
  it('include indexes, referrers, strays, locked and unknown-time images', () => {
    const samples: Inventory[] = fc.sample(repository, { numRuns: 200, seed: 7 }).map((images) => inventory(images));

    const all = samples.flatMap((inv) => inv.images);

    expect(all.some((img) => img.children.length > 0)).toBe(true);
    expect(all.some((img) => img.subject !== null && img.tags.length > 0)).toBe(true);
    expect(all.some((img) => img.locked)).toBe(true);
    expect(all.some((img) => img.pushedAtMs === null)).toBe(true);
    expect(all.some((img) => img.tags.length > 1)).toBe(true);
  });
});

/** Tag classes (docs/retention.md, "Tag classes"): overlapping, with their own keep and ages. */
const CLASS_PATTERNS = ['b*', 'release-*', '/^v?\\d+\\.\\d+\\.\\d+/', 'main', '/^[a-z]+$/'];

const classedPolicies = fc
  .tuple(
    policies,
    fc.array(
      fc.record({
        match: fc.constantFrom(...CLASS_PATTERNS),
        keep: fc.integer({ min: 0, max: 4 }),
        minAge: fc.constantFrom(null, '0s', '2d'),
        keepPulledWithin: fc.constantFrom(null, '3d'),
        olderThan: fc.constantFrom(null, '20d'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(
    ([rules, specs]): Policy => ({
      ...rules,
      classes: specs.map((spec) => {
        const own = policy({
          keep: spec.keep,
          minAge: spec.minAge ?? '0s',
          keepPulledWithin: spec.keepPulledWithin,
          olderThan: spec.olderThan,
        });
        return {
          match: policy({ pinned: [spec.match] }).pinned[0]!,
          keep: spec.keep,
          minAgeMs: spec.minAge === null ? rules.minAgeMs : own.minAgeMs,
          keepPulledWithinMs: spec.keepPulledWithin === null ? rules.keepPulledWithinMs : own.keepPulledWithinMs,
          olderThanMs: spec.olderThan === null ? rules.olderThanMs : own.olderThanMs,
        };
      }),
    }),
  );

/** Plain images only (no index, referrer or lock): what rules 1–5 alone decide. */
const plainRepository = repository.map((images) =>
  images.map((img) => ({ ...img, kind: 'image' as const, children: [], subject: null, locked: false })),
);

describe('planner properties with tag classes', () => {
  it('plans exactly as without classes when one class holds every tag with the rule’s own fields', () => {
    fc.assert(
      fc.property(repository, policies, (images, rules) => {
        const everything = policy({ pinned: ['/.*/'] }).pinned[0]!;
        const oneClass: Policy = { ...rules, classes: [{ ...rules, match: everything }] };

        const withClass = planOf(images, oneClass);

        expect(withClass).toEqual(planOf(images, rules));
      }),
      RUNS,
    );
  });

  it('keeps an image when any class holding it keeps it, and deletes it only when none does', () => {
    fc.assert(
      fc.property(plainRepository, classedPolicies, (images, generated) => {
        const rules: Policy = { ...generated, order: 'pushed' };
        const classes = rules.classes ?? [];
        const unpinned = unpinnedTaggedRootsByPush(images, rules);
        const inClass = (img: Image, k: number) => img.tags.some((tag) => classes[k]!.match.test(tag));
        const expectedKept = new Set(images.filter((img) => isPinned(img.tags, rules.pinned)).map((i) => i.digest));
        classes.forEach((tagClass, k) => {
          for (const img of unpinned.filter((i) => inClass(i, k)).slice(0, tagClass.keep)) expectedKept.add(img.digest);
        });
        const inRest = (img: Image) => img.tags.some((tag) => classes.every((c) => !c.match.test(tag)));
        const unclassified = unpinned.filter(inRest);
        for (const img of unclassified.slice(0, rules.keep)) expectedKept.add(img.digest);
        const youngOrPulled = (
          img: Image,
          rulesOf: Pick<Policy, 'minAgeMs' | 'keepPulledWithinMs' | 'olderThanMs'>,
        ) => {
          const age = NOW.getTime() - (img.pushedAtMs ?? Number.NaN);
          const pulledAge = NOW.getTime() - (img.lastPulledAtMs ?? Number.NaN);
          return (
            age < rulesOf.minAgeMs ||
            (rulesOf.keepPulledWithinMs !== null && pulledAge <= rulesOf.keepPulledWithinMs) ||
            (rulesOf.olderThanMs !== null && !(age > rulesOf.olderThanMs))
          );
        };
        for (const img of images) {
          const held = classes.filter((_, k) => inClass(img, k));
          const judges = img.tags.length === 0 || inRest(img) ? [...held, rules] : held;
          if (judges.some((judge) => youngOrPulled(img, judge))) expectedKept.add(img.digest);
          if (img.tags.length === 0 && rules.untagged === 'keep') expectedKept.add(img.digest);
        }

        const result = planOf(images, rules);

        expect(keptSet(result)).toEqual(expectedKept);
      }),
      RUNS,
    );
  });

  it('never deletes more when one class’s keep is raised', () => {
    fc.assert(
      fc.property(repository, classedPolicies, fc.nat(), (images, rules, pick) => {
        const classes = rules.classes ?? [];
        const raisedAt = pick % classes.length;
        const raised: Policy = {
          ...rules,
          classes: classes.map((c, k) => (k === raisedAt ? { ...c, keep: c.keep + 1 } : c)),
        };

        const before = deletedSet(planOf(images, rules));
        const after = deletedSet(planOf(images, raised));

        for (const digest of after) expect(before.has(digest)).toBe(true);
      }),
      RUNS,
    );
  });

  it('partitions the inventory, keeps pinned and locked images and what kept ones reference', () => {
    fc.assert(
      fc.property(repository, classedPolicies, (images, rules) => {
        const result = planOf(images, rules);

        const kept = keptSet(result);
        const deleted = deletedSet(result);
        expect([...kept, ...deleted].sort()).toEqual(images.map((img) => img.digest).sort());
        for (const img of images) {
          if (isPinned(img.tags, rules.pinned) || img.locked) expect(kept.has(img.digest)).toBe(true);
          if (kept.has(img.digest)) for (const child of img.children) expect(deleted.has(child)).toBe(false);
          if (img.subject !== null && kept.has(img.subject)) expect(deleted.has(img.digest)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('plans the same whatever order the inventory lists images in', () => {
    fc.assert(
      fc.property(repository, classedPolicies, fc.array(fc.nat()), (images, rules, keys) => {
        const result = planOf(shuffled(images, keys), rules);

        expect(result).toEqual(planOf(images, rules));
      }),
      RUNS,
    );
  });
});
