import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSemver, mostRecent, parseSemver, rankByRecency } from '../../lib/plan/index.js';
import { NOW, daysAgo, image } from '../support/builders.js';

describe('parseSemver', () => {
  it.each([
    ['1.2.3', { major: '1', minor: '2', patch: '3', prerelease: [] }],
    ['v1.2.3', { major: '1', minor: '2', patch: '3', prerelease: [] }],
    ['1.0.0-rc.1', { major: '1', minor: '0', patch: '0', prerelease: ['rc', '1'] }],
    ['1.0.0-alpha-beta.x-y', { major: '1', minor: '0', patch: '0', prerelease: ['alpha-beta', 'x-y'] }],
    ['99999999999999999999.0.0', { major: '99999999999999999999', minor: '0', patch: '0', prerelease: [] }],
  ])('reads %s as a version', (tag, expected) => {
    expect(parseSemver(tag)).toEqual(expected);
  });

  it.each([
    'latest',
    '1.2',
    '1',
    'V1.2.3',
    'v1.2.3.4',
    '01.2.3',
    '1.2.3-',
    '1.2.3-01',
    'sha256-abc.sig',
    'release-1.2.3',
  ])('does not read %s as a version', (tag) => {
    expect(parseSemver(tag)).toBeNull();
  });
});

describe('compareSemver', () => {
  // Each row: lower < higher, as in semver.org §11.
  it.each([
    ['1.0.0', '2.0.0'],
    ['2.0.0', '2.1.0'],
    ['2.1.0', '2.1.1'],
    ['1.9.0', '1.10.0'],
    ['1.0.0-alpha', '1.0.0'],
    ['1.0.0-alpha', '1.0.0-alpha.1'],
    ['1.0.0-alpha.1', '1.0.0-alpha.beta'],
    ['1.0.0-alpha.beta', '1.0.0-beta'],
    ['1.0.0-beta.2', '1.0.0-beta.11'],
    ['1.0.0-rc.1', '1.0.0'],
    ['9999999999999999.0.0', '10000000000000000.0.0'],
  ])('ranks %s below %s', (lower, higher) => {
    const a = parseSemver(lower)!;
    const b = parseSemver(higher)!;

    expect(compareSemver(a, b)).toBeLessThan(0);
    expect(compareSemver(b, a)).toBeGreaterThan(0);
  });

  it('ranks v1.2.3 and 1.2.3 as equal', () => {
    expect(compareSemver(parseSemver('v1.2.3')!, parseSemver('1.2.3')!)).toBe(0);
  });
});

describe('mostRecent', () => {
  const tagged = fc
    .array(
      fc.record({
        tag: fc.constantFrom('latest', '1.0.0', 'v1.2.0', '2.0.0-rc.1', '2.0.0', 'main', '1.2'),
        days: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      }),
      { maxLength: 60 },
    )
    .map((specs) =>
      specs.map((spec, i) =>
        image({ name: `r${i}`, tags: [spec.tag], pushedAt: spec.days === null ? null : daysAgo(spec.days, NOW) }),
      ),
    );

  it('picks the same images, in the same order, as ranking them all', () => {
    fc.assert(
      fc.property(
        tagged,
        fc.constantFrom<'pushed' | 'semver'>('pushed', 'semver'),
        fc.integer({ min: 0, max: 12 }),
        (images, order, count) => {
          const picked = mostRecent(images, order, count);

          expect(picked).toEqual(rankByRecency(images, order).slice(0, count));
        },
      ),
      { numRuns: 300 },
    );
  });
});
