import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../lib/config/load.js';
import { resolvePolicy } from '../../lib/config/policy.js';
import { plan } from '../../lib/plan/index.js';
import { daysAgo, image, inventory, NOW } from '../support/builders.js';

const CLASSES = `
version: 1
defaults: { keep: 2, minAge: 1d, pinned: [] }
registries:
  - name: r
    provider: oci
    endpoint: https://registry.example.com
    repositories:
      - match: "app/**"
        tags:
          - { match: "pr-*", keep: 1, minAge: 0s }
          - { match: "main-*", keep: 3 }
          - { match: "release-*", keep: 1000 }
`;

describe('tag classes in the config', () => {
  it('resolves each class, unset fields from the rule, the rule from the defaults', () => {
    const config = parseConfigText(CLASSES);

    const resolved = resolvePolicy(config, config.registries[0]!.repositories[0]!);

    expect(resolved.keep).toBe(2);
    expect(resolved.classes?.map((c) => [c.match.source, c.keep, c.minAgeMs])).toEqual([
      ['pr-*', 1, 0],
      ['main-*', 3, 86_400_000],
      ['release-*', 1000, 86_400_000],
    ]);
  });

  it('keeps per class: one pr build, three main builds, every release, and two of the rest', () => {
    const config = parseConfigText(CLASSES);
    const rule = config.registries[0]!.repositories[0]!;
    const builds = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => image({ tags: [`${prefix}${i}`], pushedAt: daysAgo(10 + i) }));
    const images = [...builds('pr-', 4), ...builds('main-', 5), ...builds('release-', 6), ...builds('other-', 3)];

    const result = plan(inventory(images), resolvePolicy(config, rule), NOW);

    const keptTags = result.keep.flatMap((k) => k.tags).sort();
    expect(keptTags).toEqual(
      [
        'pr-0',
        'main-0',
        'main-1',
        'main-2',
        'other-0',
        'other-1',
        ...builds('release-', 6).map((_, i) => `release-${i}`),
      ].sort(),
    );
  });

  it('keeps an old pr build that also carries a tag no class matches, as the rule keeps its own tags', () => {
    const config = parseConfigText(CLASSES);
    const rule = config.registries[0]!.repositories[0]!;
    const prs = Array.from({ length: 3 }, (_, i) => image({ tags: [`pr-${i}`], pushedAt: daysAgo(10 + i) }));
    const promoted = image({ tags: ['pr-9', 'prod'], pushedAt: daysAgo(40) });

    const result = plan(inventory([...prs, promoted]), resolvePolicy(config, rule), NOW);

    expect(result.keep.map((k) => k.digest)).toContain(promoted.digest);
    expect(result.delete.map((d) => d.tags[0])).toEqual(expect.arrayContaining(['pr-1', 'pr-2']));
  });

  it('refuses an empty tags list and an unknown key in a class, naming where', () => {
    const empty = CLASSES.replace(/tags:[\s\S]*$/, 'tags: []\n');
    const unknown = CLASSES.replace('keep: 1, minAge: 0s', 'keep: 1, pinned: [x]');

    expect(() => parseConfigText(empty)).toThrow(
      /registries\[0\]\.repositories\[0\]\.tags: expected at least one tag class/,
    );
    expect(() => parseConfigText(unknown)).toThrow(/repositories\[0\]\.tags\[0\]: unknown key "pinned"/);
  });
});
