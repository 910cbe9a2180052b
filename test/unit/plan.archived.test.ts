/** Rule 16 (docs/design.md): archived images, one row per case, plus the lock attributes of rule 9. */
import { describe, expect, it } from 'vitest';
import type { Image } from '../../lib/model.js';
import { plan } from '../../lib/plan/index.js';
import { daysAgo, digestOf as D, image, index, inventory, NOW, policy, referrer } from '../support/builders.js';

const archived = (spec: Parameters<typeof image>[0]): Image => ({ ...image(spec), storage: 'archived' });
const activating = (spec: Parameters<typeof image>[0]): Image => ({ ...image(spec), storage: 'activating' });

/** `{ name: reason | 'deleted' }` for the named images. */
function fates(images: readonly Image[], archivedRule: 'keep' | 'delete' | undefined, pinned: string[] = []) {
  const result = plan(
    inventory(images),
    { ...policy({ keep: 1, untagged: 'delete', pinned }), ...(archivedRule ? { archived: archivedRule } : {}) },
    NOW,
  );
  const out: Record<string, string> = {};
  for (const name of ['new', 'old', 'arch', 'sig', 'child', 'idx', 'act']) {
    const digest = D(name);
    const kept = result.keep.find((k) => k.digest === digest);
    if (kept) out[name] = kept.reason;
    else if (result.delete.some((d) => d.digest === digest)) out[name] = 'deleted';
  }
  return out;
}

describe('rule 16: archived images', () => {
  it.each([
    {
      name: 'an archived image is kept by default and does not push an active image out of keep',
      images: () => [
        image({ name: 'new', tags: ['b'], pushedAt: daysAgo(5) }),
        archived({ name: 'arch', tags: ['c'], pushedAt: daysAgo(1) }),
        image({ name: 'old', tags: ['a'], pushedAt: daysAgo(9) }),
      ],
      rule: undefined,
      expected: { new: 'recent', arch: 'archived', old: 'deleted' },
    },
    {
      name: 'an activating (being restored) image counts as archived',
      images: () => [image({ name: 'new', tags: ['b'] }), activating({ name: 'act' })],
      rule: 'keep' as const,
      expected: { new: 'recent', act: 'archived' },
    },
    {
      name: 'the signature of an archived image follows it, however old and untagged',
      images: () => [
        image({ name: 'new', tags: ['b'], pushedAt: daysAgo(1) }),
        archived({ name: 'arch', tags: ['c'], pushedAt: daysAgo(50) }),
        referrer(D('arch'), { name: 'sig', pushedAt: daysAgo(50) }),
      ],
      rule: 'keep' as const,
      expected: { new: 'recent', arch: 'archived', sig: 'subject' },
    },
    {
      name: 'an archived index keeps its platform manifests',
      images: () => [
        image({ name: 'new', tags: ['b'], pushedAt: daysAgo(1) }),
        image({ name: 'child' }),
        { ...index({ name: 'idx', tags: ['i'], children: [D('child')] }), storage: 'archived' as const },
      ],
      rule: 'keep' as const,
      expected: { new: 'recent', idx: 'archived', child: 'referenced' },
    },
    {
      name: 'under archived: delete it is judged like any image, still outside keep',
      images: () => [
        image({ name: 'new', tags: ['b'], pushedAt: daysAgo(5) }),
        archived({ name: 'arch', tags: ['c'], pushedAt: daysAgo(1) }),
        referrer(D('arch'), { name: 'sig' }),
      ],
      rule: 'delete' as const,
      expected: { new: 'recent', arch: 'deleted', sig: 'deleted' },
    },
    {
      name: 'a pinned archived image is pinned',
      images: () => [image({ name: 'new', tags: ['b'] }), archived({ name: 'arch', tags: ['latest'] })],
      rule: 'keep' as const,
      pinned: ['latest'],
      expected: { new: 'recent', arch: 'pinned' },
    },
  ])('$name', ({ images, rule, expected, pinned }) => {
    const built = images();

    const result = fates(built, rule, pinned);

    expect(result).toEqual(expected);
  });
});

describe('rule 9: lock attributes', () => {
  it('names the attributes that lock a kept image in its keep decision', () => {
    const locks = [{ level: 'tag' as const, attribute: 'writeEnabled' as const, tag: 'a' }];
    const images = [
      image({ name: 'new', tags: ['b'], pushedAt: daysAgo(1) }),
      { ...image({ name: 'old', tags: ['a'] }), locked: true, locks },
    ];

    const result = plan(inventory(images), policy({ keep: 1 }), NOW);

    expect(result.keep.find((k) => k.digest === D('old'))).toEqual({
      digest: D('old'),
      tags: ['a'],
      reason: 'locked',
      locks,
    });
    expect(result.keep.find((k) => k.digest === D('new'))).not.toHaveProperty('locks');
  });
});
