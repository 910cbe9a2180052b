import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestOrder } from '../../lib/plan/digest-order.js';
import { sortByDigest } from '../../lib/plan/index.js';
import { image } from '../support/builders.js';

const plainOrder = (digests: readonly string[]): number[] =>
  digests.map((_, i) => i).sort((a, b) => (digests[a]! < digests[b]! ? -1 : digests[a]! > digests[b]! ? 1 : a - b));

describe('digest order', () => {
  it.each([
    [
      'digests sharing a long prefix',
      ['sha256:aaaaaab', 'sha256:aaaaaaa', 'sha256:aaaaa', 'sha256:aaaab', 'sha256:aaaaac'],
    ],
    ['digests of other algorithms', ['sha512:ff', 'sha256:00', 'md5:1', 'sha512:0a']],
    ['digests shorter than the key', ['sha256:b', 'sha256:a', 'sha256:']],
    ['digests with non-ASCII characters', ['sha256:ééééé', 'sha256:aaaaa', 'sha256:zzzzz']],
  ])('orders %s exactly as string comparison does', (_what, digests) => {
    const { order } = digestOrder(digests);

    expect([...order]).toEqual(plainOrder(digests));
  });

  it('orders any digests as string comparison does, keeping equal ones in listing order', () => {
    const shaLike = fc.oneof(
      fc.stringMatching(/^[ab]{5,8}$/).map((hex) => `sha256:${hex}`),
      fc.stringMatching(/^[0-9a]{0,9}$/).map((hex) => `sha256:${hex}`),
    );
    const digests = fc.oneof(
      fc.array(shaLike, { maxLength: 40 }),
      fc.array(fc.oneof(shaLike, fc.string({ maxLength: 12 })), { maxLength: 40 }),
    );
    fc.assert(
      fc.property(digests, (listed) => {
        const { order, repeated } = digestOrder(listed);

        expect([...order]).toEqual(plainOrder(listed));
        expect(repeated).toBe(new Set(listed).size < listed.length);
      }),
      { numRuns: 500 },
    );
  });

  it('sorts images by digest', () => {
    const images = ['sha256:c', 'sha256:a', 'sha256:b'].map((digest) => image({ digest }));

    expect(sortByDigest(images).map((img) => img.digest)).toEqual(['sha256:a', 'sha256:b', 'sha256:c']);
  });
});
