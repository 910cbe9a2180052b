/**
 * Properties of the executor over generated repositories (indexes, referrers, shared tags), plans,
 * failed deletions, and tags that move or appear between the listing and the deletion.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execute } from '../../lib/execute/index.js';
import type { Image } from '../../lib/model.js';
import { plan } from '../../lib/plan/index.js';
import { digestOf, HOUR_MS, image, inventory, NOW, policy } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const REPO = 'app/web';
const TAG_POOL = ['latest', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'v1', 'v2'];

const imageSpec = fc.record({
  shape: fc.constantFrom('image', 'image', 'image', 'index', 'referrer'),
  tags: fc.subarray(TAG_POOL, { maxLength: 2 }),
  pushedHoursAgo: fc.integer({ min: 1, max: 24 * 60 }),
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
});

/** Image i references only images j < i, as content addressing guarantees. */
const repository = fc.array(imageSpec, { minLength: 1, maxLength: 16 }).map((specs): Image[] => {
  const claimed = new Set<string>();
  return specs.map((spec, i) => {
    const tags = spec.tags.filter((tag) => !claimed.has(tag));
    for (const tag of tags) claimed.add(tag);
    const earlier = [...new Set(spec.picks.filter(() => i > 0).map((pick) => digestOf(`p${pick % i}`)))];
    const common = { name: `p${i}`, tags, pushedAt: new Date(NOW.getTime() - spec.pushedHoursAgo * HOUR_MS) };
    if (spec.shape === 'index' && earlier.length > 0) return image({ ...common, kind: 'index', children: earlier });
    if (spec.shape === 'referrer' && earlier.length > 0)
      return image({ ...common, kind: 'artifact', subject: earlier[0]! });
    return image(common);
  });
});

const scenario = fc.record({
  images: repository,
  keep: fc.integer({ min: 0, max: 3 }),
  untagged: fc.constantFrom<'keep' | 'delete'>('keep', 'delete'),
  batch: fc.integer({ min: 1, max: 4 }),
  /** Indexes into the listing: deletions of these fail. */
  failures: fc.array(fc.nat(), { maxLength: 3 }),
  /** [tag index, image index]: before deleting, a tag moves (or appears) there. */
  moves: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

async function arrange(s: Scenario) {
  const provider = new MemoryProvider({ repositories: { [REPO]: s.images }, maxDeleteBatch: s.batch });
  const listed = inventory(await provider.listImages(REPO), { repository: REPO });
  const repositoryPlan = plan(listed, policy({ keep: s.keep, pinned: ['latest'], untagged: s.untagged }), NOW);
  return { provider, listed, repositoryPlan };
}

/** Every digest each listed manifest references (children and subject). */
function referencesOf(images: readonly Image[]): Map<string, string[]> {
  return new Map(images.map((img) => [img.digest, [...img.children, ...(img.subject ? [img.subject] : [])]]));
}

const RUNS = { numRuns: 200 };

describe('executor properties', () => {
  it('puts every planned deletion in exactly one of kept, deleted, failed and pending', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { provider, listed, repositoryPlan } = await arrange(s);
        for (const n of s.failures) provider.deleteFailures.set(s.images[n % s.images.length]!.digest, 'refused');

        const outcome = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

        const planned = repositoryPlan.delete.map((d) => d.digest).sort();
        const accounted = [
          ...outcome.kept.filter((k) => !repositoryPlan.keep.some((p) => p.digest === k.digest)),
          ...outcome.deleted,
          ...outcome.failed,
          ...outcome.pending,
        ]
          .map((entry) => entry.digest)
          .sort();
        expect(accounted).toEqual(planned);
      }),
      RUNS,
    );
  });

  it('never leaves a remaining manifest referencing a deleted one, whatever fails', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { provider, listed, repositoryPlan } = await arrange(s);
        for (const n of s.failures) provider.deleteFailures.set(s.images[n % s.images.length]!.digest, 'refused');

        await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

        const remaining = new Set(provider.digests(REPO));
        const references = referencesOf(s.images);
        for (const digest of remaining) {
          for (const target of references.get(digest) ?? []) {
            if (s.images.some((img) => img.digest === target)) expect(remaining.has(target)).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it('keeps every kept or new tag resolving to where it pointed just before deletion', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { provider, listed, repositoryPlan } = await arrange(s);
        const keptTags = repositoryPlan.keep.flatMap((k) => k.tags);
        const guarded = new Map<string, string>();
        for (const [tagIndex, imageIndex] of s.moves) {
          const candidates = [...keptTags, 'new-1', 'new-2'];
          const tag = candidates[tagIndex % candidates.length]!;
          const target = s.images[imageIndex % s.images.length]!.digest;
          provider.setTag(REPO, tag, target);
          guarded.set(tag, target);
        }
        for (const tag of keptTags) if (!guarded.has(tag)) guarded.set(tag, provider.tagTarget(REPO, tag)!);

        await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

        for (const [tag, digest] of guarded) expect(provider.tagTarget(REPO, tag)).toBe(digest);
      }),
      RUNS,
    );
  });

  it('lists in a dry run exactly what the real run then deletes, and deletes nothing itself', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { provider, listed, repositoryPlan } = await arrange(s);

        const dry = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: true });
        const digestsAfterDryRun = provider.digests(REPO);
        const real = await execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false });

        expect(digestsAfterDryRun).toEqual(listed.images.map((img) => img.digest).sort());
        expect(dry.deleted).toEqual(real.deleted);
      }),
      RUNS,
    );
  });
});
