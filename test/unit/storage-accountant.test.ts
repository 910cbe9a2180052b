/** The streaming accountant: one repository at a time, the same figures whatever order they come in. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Image } from '../../lib/model.js';
import { RegistryAccountant, type RepositoryAccountInput } from '../../lib/storage/account.js';

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function image(digest: string, tags: string[], blobs: Array<[string, number]>): Image {
  return {
    digest,
    tags,
    kind: 'image',
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    pushedAtMs: Date.UTC(2026, 0, 1),
    timeSource: 'registry',
    lastPulledAtMs: null,
    sizeBytes: null,
    blobs: blobs.map(([name, sizeBytes]) => ({ digest: name.startsWith('sha256:') ? name : sha(name), sizeBytes })),
    children: [],
    subject: null,
    locked: false,
  };
}

/** Three repositories sharing a 7-byte base layer (odd bytes to share out), one with an untagged image. */
function repositories(): RepositoryAccountInput[] {
  const make = (name: string, count: number): RepositoryAccountInput => {
    const images = Array.from({ length: count }, (_, i) =>
      image(sha(`${name}/${i}`), i === 0 ? [] : [`v${i}`], [
        ['base', 7],
        [`${name}/${i}/layer`, 100 + i],
      ]),
    );
    return {
      inventory: { registry: 'r', repository: name, images, warnings: [] },
      deleted: new Set([images[1]!.digest]),
    };
  };
  return [make('zeta', 3), make('alpha', 4), make('mid', 2)];
}

describe('RegistryAccountant', () => {
  it.each(['acr', 'ecr'] as const)('gives the same %s figures whatever order repositories are added in', (provider) => {
    const forward = new RegistryAccountant({ registry: 'r', provider });
    const backward = new RegistryAccountant({ registry: 'r', provider });
    for (const repository of repositories()) forward.add(repository);
    for (const repository of repositories().reverse()) backward.add(repository);

    const a = forward.finish({ scopeComplete: true });
    const b = backward.finish({ scopeComplete: true });

    expect(a).toEqual(b);
    expect(a.repositories.map((repository) => repository.name)).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('shares a registry-wide blob’s odd bytes to the first repositories by name', () => {
    const accountant = new RegistryAccountant({ registry: 'r', provider: 'acr' });
    for (const repository of repositories()) accountant.add(repository);

    const storage = accountant.finish();

    const attributed = storage.repositories.map((repository) => repository.bytes.attributed);
    // base (7 bytes) over three repositories: 3, 2, 2; then each repository's own layers.
    expect(attributed).toEqual([3 + 100 + 101 + 102 + 103, 2 + 100 + 101, 2 + 100 + 101 + 102]);
    expect(storage.bytes.before).toBe(7 + 406 + 201 + 303);
    expect(storage.blobs.before).toBe(1 + 4 + 2 + 3);
  });

  it('counts every unique blob once past the size where its table grows', () => {
    const accountant = new RegistryAccountant({ registry: 'r', provider: 'acr' });
    for (let r = 0; r < 5; r++) {
      const images = Array.from({ length: 2_000 }, (_, i) =>
        image(
          sha(`${r}/${i}`),
          [`v${i}`],
          [
            ['base', 10],
            [`${r}/${i}`, 1],
            ['size:not-a-digest', 5],
          ],
        ),
      );
      accountant.add({
        inventory: { registry: 'r', repository: `repo-${r}`, images, warnings: [] },
        deleted: new Set(),
      });
    }

    const storage = accountant.finish();

    expect(storage.blobs.before).toBe(2 + 5 * 2_000);
    expect(storage.bytes.before).toBe(10 + 5 + 5 * 2_000);
  });
});
