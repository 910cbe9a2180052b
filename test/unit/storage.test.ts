import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BlobRef, Image, Inventory } from '../../lib/model.js';
import type { Plan } from '../../lib/plan/types.js';
import {
  accountRegistry,
  accountRepository,
  plannedDeletions,
  evenShare,
  storageSection,
  untaggedInvisibleNote,
} from '../../lib/storage/index.js';

const MB = 1_000_000;
const NOW = Date.UTC(2026, 10, 23);

function blob(name: string, sizeBytes: number): BlobRef {
  return { digest: `sha256:${name}`, sizeBytes };
}

function image(fields: Partial<Image> & { digest: string }): Image {
  return {
    tags: [],
    kind: 'image',
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    pushedAtMs: NOW,
    timeSource: 'config',
    lastPulledAtMs: null,
    sizeBytes: null,
    children: [],
    subject: null,
    locked: false,
    ...fields,
  };
}

function inventory(repository: string, images: Image[]): Inventory {
  return { registry: 'local', repository, images, warnings: [] };
}

const base = blob('base', 50 * MB);

describe('byte accounting within one repository', () => {
  it('accounts one repository on its own, a layer shared with another repository counted in full', () => {
    const images = ['a', 'b'].map((name) =>
      image({ digest: `sha256:m-${name}`, tags: [name], blobs: [base, blob(name, MB)] }),
    );
    const orphan = image({ digest: 'sha256:m-o', blobs: [blob('o', 3 * MB)] });

    const storage = accountRepository({
      registry: 'local',
      inventory: inventory('app', [...images, orphan]),
      deleted: new Set(['sha256:m-a', 'sha256:m-o']),
    });

    expect(storage.bytes).toEqual({
      before: 55 * MB,
      attributed: 55 * MB,
      after: 51 * MB,
      reclaimed: 4 * MB,
      untagged: 3 * MB,
    });
    expect(storage.blobs).toEqual({ before: 4, after: 2 });
    expect(storage.images).toEqual({ before: 3, after: 1, untagged: 1 });
  });

  it('counts a layer shared by many images once', () => {
    const images = ['a', 'b', 'c'].map((name) =>
      image({ digest: `sha256:m-${name}`, tags: [name], blobs: [base, blob(name, MB)] }),
    );

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      listsUntagged: true,
      repositories: [{ inventory: inventory('app', images), deleted: new Set() }],
    });

    expect(storage.bytes.before).toBe(50 * MB + 3 * MB);
    expect(storage.blobs.before).toBe(4);
    expect(storage.repositories[0]?.bytes.before).toBe(53 * MB);
    expect(storage.accuracy).toBe('exact');
  });

  it('reclaims only blobs that no kept manifest references', () => {
    const images = ['a', 'b', 'c'].map((name) =>
      image({ digest: `sha256:m-${name}`, tags: [name], blobs: [base, blob(name, MB)] }),
    );

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: inventory('app', images), deleted: new Set(['sha256:m-a', 'sha256:m-b']) }],
    });

    expect(storage.bytes.reclaimed).toBe(2 * MB);
    expect(storage.bytes.after).toBe(51 * MB);
    expect(storage.repositories[0]?.images).toEqual({ before: 3, after: 1, untagged: 0 });
  });

  it('reclaims the shared layer when every image using it goes', () => {
    const images = ['a', 'b'].map((name) =>
      image({ digest: `sha256:m-${name}`, tags: [name], blobs: [base, blob(name, MB)] }),
    );

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: inventory('app', images), deleted: new Set(['sha256:m-a', 'sha256:m-b']) }],
    });

    expect(storage.bytes.reclaimed).toBe(52 * MB);
    expect(storage.bytes.after).toBe(0);
  });

  it('counts a multi-arch index by its children, each shared blob once, and ignores the index size', () => {
    const amd = image({ digest: 'sha256:amd', blobs: [base, blob('amd', 2 * MB)] });
    const arm = image({ digest: 'sha256:arm', blobs: [base, blob('arm', 3 * MB)] });
    const index = image({
      digest: 'sha256:idx',
      kind: 'index',
      tags: ['v1'],
      children: ['sha256:amd', 'sha256:arm'],
      sizeBytes: 53 * MB,
    });

    const storage = accountRegistry({
      registry: 'local',
      provider: 'ecr',
      repositories: [
        {
          inventory: inventory('app', [index, amd, arm]),
          deleted: new Set(['sha256:idx', 'sha256:amd', 'sha256:arm']),
        },
      ],
    });

    expect(storage.bytes.before).toBe(55 * MB);
    expect(storage.bytes.reclaimed).toBe(55 * MB);
    expect(storage.accuracy).toBe('exact');
    expect(storage.oldest.map((summary) => [summary.digest, summary.bytes])).toEqual([['sha256:idx', 55 * MB]]);
  });

  it('does not reclaim a child a kept manifest still lists', () => {
    const amd = image({ digest: 'sha256:amd', blobs: [blob('amd', 2 * MB)] });
    const old = image({ digest: 'sha256:old', kind: 'index', tags: ['v1'], children: ['sha256:amd'], blobs: [] });
    const kept = image({ digest: 'sha256:new', kind: 'index', tags: ['v2'], children: ['sha256:amd'], blobs: [] });

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: inventory('app', [old, kept, amd]), deleted: new Set(['sha256:old']) }],
    });

    expect(storage.bytes.reclaimed).toBe(0);
  });
});

describe('byte accounting across repositories', () => {
  const web = (deleted: string[]) => ({
    inventory: inventory('web', [image({ digest: 'sha256:w1', tags: ['1'], blobs: [base, blob('w1', MB)] })]),
    deleted: new Set(deleted),
  });
  const api = (deleted: string[]) => ({
    inventory: inventory('api', [image({ digest: 'sha256:a1', tags: ['1'], blobs: [base, blob('a1', 4 * MB)] })]),
    deleted: new Set(deleted),
  });

  it('keeps a blob another repository still uses when the registry stores blobs once (OCI, ACR)', () => {
    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [web(['sha256:w1']), api([])],
    });

    expect(storage.dedupScope).toBe('registry');
    expect(storage.bytes.before).toBe(55 * MB);
    expect(storage.bytes.reclaimed).toBe(MB);
  });

  it('frees the per-repository copy where the registry stores blobs per repository (ECR)', () => {
    const storage = accountRegistry({ registry: 'prod', provider: 'ecr', repositories: [web(['sha256:w1']), api([])] });

    expect(storage.dedupScope).toBe('repository');
    expect(storage.bytes.before).toBe(105 * MB);
    expect(storage.bytes.reclaimed).toBe(51 * MB);
  });

  it('counts a blob freed from two repositories once and splits it between them', () => {
    const storage = accountRegistry({
      registry: 'acr',
      provider: 'acr',
      repositories: [web(['sha256:w1']), api(['sha256:a1'])],
    });

    expect(storage.bytes.reclaimed).toBe(55 * MB);
    const [apiStorage, webStorage] = storage.repositories;
    expect(apiStorage?.bytes.reclaimed).toBe(25 * MB + 4 * MB);
    expect(webStorage?.bytes.reclaimed).toBe(25 * MB + MB);
    expect(webStorage?.bytes.before).toBe(51 * MB);
  });

  it('marks reclaimed bytes an upper bound when the registry-wide scope was not fully listed', () => {
    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [web(['sha256:w1'])],
      scopeComplete: false,
    });

    expect(storage.accuracy).toBe('estimate');
    expect(storage.notes.join('\n')).toMatch(/upper bound/);
  });

  it('stays exact with unlisted repositories when blobs are stored per repository', () => {
    const storage = accountRegistry({
      registry: 'prod',
      provider: 'ecr',
      repositories: [web(['sha256:w1'])],
      scopeComplete: false,
    });

    expect(storage.accuracy).toBe('exact');
  });
});

describe('exact and estimated figures', () => {
  it('never calls an OCI registry exact: its API cannot list the untagged manifests that no tag reaches', () => {
    const images = [image({ digest: 'sha256:a', tags: ['a'], blobs: [base] })];

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: inventory('app', images), deleted: new Set() }],
    });

    expect(storage.accuracy).toBe('estimate');
    expect(storage.repositories[0]?.accuracy).toBe('estimate');
    expect(storage.listsUntagged).toBe(false);
    expect(storage.notes).toEqual([untaggedInvisibleNote('local')]);
    expect(untaggedInvisibleNote('local')).toMatch(/--delete-untagged .* on 2\.8 .* deletes the platform manifests/);
  });

  it.each(['acr', 'ecr'] as const)('keeps %s figures exact: its listing shows untagged manifests', (provider) => {
    const images = [
      image({ digest: 'sha256:a', tags: ['a'], blobs: [base] }),
      image({ digest: 'sha256:u', blobs: [base] }),
    ];

    const storage = accountRegistry({
      registry: 'r',
      provider,
      repositories: [{ inventory: inventory('app', images), deleted: new Set() }],
    });

    expect(storage.accuracy).toBe('exact');
    expect(storage.notes).toEqual([]);
  });

  it('uses registry-reported sizes and says so when a manifest lists no blobs', () => {
    const images = [
      image({ digest: 'sha256:a', tags: ['a'], sizeBytes: 51 * MB }),
      image({ digest: 'sha256:b', tags: ['b'], sizeBytes: 52 * MB }),
    ];

    const storage = accountRegistry({
      registry: 'prod',
      provider: 'ecr',
      repositories: [{ inventory: inventory('app', images), deleted: new Set(['sha256:a']) }],
    });

    expect(storage.accuracy).toBe('estimate');
    expect(storage.repositories[0]?.accuracy).toBe('estimate');
    expect(storage.bytes.before).toBe(103 * MB);
    expect(storage.bytes.reclaimed).toBe(51 * MB);
    expect(storage.notes[0]).toMatch(/prod\/app: 2 of 2 manifests have no blob list/);
  });

  it('uses the index size when none of its children are listed', () => {
    const index = image({
      digest: 'sha256:idx',
      kind: 'index',
      tags: ['v1'],
      children: ['sha256:gone'],
      sizeBytes: 7 * MB,
    });

    const storage = accountRegistry({
      registry: 'r',
      provider: 'acr',
      repositories: [{ inventory: inventory('app', [index]), deleted: new Set() }],
    });

    expect(storage.bytes.before).toBe(7 * MB);
    expect(storage.accuracy).toBe('estimate');
  });

  it('marks the whole section an estimate when one registry is', () => {
    const exact = accountRegistry({
      registry: 'a',
      provider: 'acr',
      repositories: [
        { inventory: inventory('x', [image({ digest: 'sha256:x', tags: ['x'], blobs: [base] })]), deleted: new Set() },
      ],
    });
    const estimated = accountRegistry({
      registry: 'b',
      provider: 'ecr',
      repositories: [
        { inventory: inventory('y', [image({ digest: 'sha256:y', tags: ['y'], sizeBytes: MB })]), deleted: new Set() },
      ],
    });

    const section = storageSection([exact, estimated]);

    expect(section.totals).toEqual({
      bytesBefore: 51 * MB,
      bytesAfter: 51 * MB,
      bytesReclaimed: 0,
      bytesUntagged: 0,
      accuracy: 'estimate',
    });
  });
});

describe('untagged bytes and oldest images', () => {
  it('counts only bytes that untagged manifests nothing tagged reaches hold alone', () => {
    const child = image({ digest: 'sha256:child', blobs: [blob('child', MB)] });
    const index = image({ digest: 'sha256:idx', kind: 'index', tags: ['v1'], children: ['sha256:child'], blobs: [] });
    const signature = image({
      digest: 'sha256:sig',
      kind: 'artifact',
      subject: 'sha256:idx',
      blobs: [blob('sig', 1000)],
    });
    const orphan = image({ digest: 'sha256:orphan', blobs: [base, blob('orphan', 2 * MB)] });
    const tagged = image({ digest: 'sha256:tagged', tags: ['latest'], blobs: [base] });

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: inventory('app', [child, index, signature, orphan, tagged]), deleted: new Set() }],
    });

    expect(storage.bytes.untagged).toBe(2 * MB);
    expect(storage.repositories[0]?.images.untagged).toBe(3);
  });

  it('lists oldest images first, unknown push times last, leaving out children and referrers', () => {
    const images = [
      image({ digest: 'sha256:new', tags: ['new'], pushedAtMs: NOW, blobs: [] }),
      image({ digest: 'sha256:unknown', tags: ['u'], pushedAtMs: null, timeSource: 'unknown', blobs: [] }),
      image({
        digest: 'sha256:old',
        tags: ['old'],
        pushedAtMs: NOW - 86_400_000,
        children: ['sha256:child'],
        kind: 'index',
        blobs: [],
      }),
      image({ digest: 'sha256:child', pushedAtMs: 0, blobs: [] }),
      image({ digest: 'sha256:sig', pushedAtMs: 0, subject: 'sha256:new', kind: 'artifact', blobs: [] }),
    ];

    const storage = accountRegistry({
      registry: 'local',
      provider: 'oci',
      repositories: [{ inventory: inventory('app', images), deleted: new Set() }],
    });

    expect(storage.oldest.map((summary) => summary.digest)).toEqual(['sha256:old', 'sha256:new', 'sha256:unknown']);
    expect(storage.repositories[0]?.oldest?.pushedAt).toBe(new Date(NOW - 86_400_000).toISOString());
  });
});

describe('plans and shares', () => {
  it('takes the digest of every planned deletion from a plan', () => {
    const plan: Plan = {
      registry: 'local',
      repository: 'app',
      keep: [],
      delete: [
        { digest: 'sha256:a', tags: ['a'], action: 'delete-manifest', wave: 0 },
        { digest: 'sha256:b', tags: ['b'], action: 'delete-manifest', wave: 1 },
      ],
      warnings: [],
    };

    expect([...plannedDeletions(plan)]).toEqual(['sha256:a', 'sha256:b']);
  });

  it('splits bytes into whole shares that add up to the total', () => {
    expect([0, 1, 2].map((position) => evenShare(10, 3, position))).toEqual([4, 3, 3]);
  });
});

describe('accounting invariants over generated registries', () => {
  const blobPool = Array.from({ length: 8 }, (_, index) => blob(`b${index}`, (index + 1) * 1000 + index));
  const arbitraryImage = fc.record({
    blobIndexes: fc.uniqueArray(fc.integer({ min: 0, max: blobPool.length - 1 }), { maxLength: 4 }),
    tagged: fc.boolean(),
    deleted: fc.boolean(),
  });
  const arbitraryRegistry = fc.record({
    provider: fc.constantFrom('oci' as const, 'acr' as const, 'ecr' as const),
    repositories: fc.array(fc.array(arbitraryImage, { maxLength: 6 }), { minLength: 1, maxLength: 4 }),
  });

  function build(
    generated: {
      provider: 'oci' | 'acr' | 'ecr';
      repositories: { blobIndexes: number[]; tagged: boolean; deleted: boolean }[][];
    },
    deleteAll = false,
  ) {
    return accountRegistry({
      registry: 'r',
      provider: generated.provider,
      repositories: generated.repositories.map((images, repo) => ({
        inventory: inventory(
          `repo${repo}`,
          images.map((generatedImage, index) =>
            image({
              digest: `sha256:r${repo}i${index}`,
              tags: generatedImage.tagged ? [`t${index}`] : [],
              blobs: generatedImage.blobIndexes.map((blobIndex) => blobPool[blobIndex] as BlobRef),
            }),
          ),
        ),
        deleted: new Set(
          images.flatMap((generatedImage, index) =>
            deleteAll || generatedImage.deleted ? [`sha256:r${repo}i${index}`] : [],
          ),
        ),
      })),
    });
  }

  it('keeps before = after + reclaimed, and the repositories add up to the registry', () => {
    fc.assert(
      fc.property(arbitraryRegistry, (generated) => {
        const storage = build(generated);

        expect(storage.bytes.before).toBe(storage.bytes.after + storage.bytes.reclaimed);
        const sum = (pick: (repository: (typeof storage.repositories)[number]) => number) =>
          storage.repositories.reduce((total, repository) => total + pick(repository), 0);
        expect(sum((repository) => repository.bytes.attributed)).toBe(storage.bytes.before);
        expect(sum((repository) => repository.bytes.reclaimed)).toBe(storage.bytes.reclaimed);
        expect(sum((repository) => repository.bytes.after)).toBe(storage.bytes.after);
        expect(sum((repository) => repository.bytes.untagged)).toBe(storage.bytes.untagged);
      }),
    );
  });

  it('never reclaims less by deleting more', () => {
    fc.assert(
      fc.property(arbitraryRegistry, (generated) => {
        const some = build(generated);
        const all = build(generated, true);

        expect(all.bytes.reclaimed).toBeGreaterThanOrEqual(some.bytes.reclaimed);
        expect(all.bytes.reclaimed).toBe(all.bytes.before);
      }),
    );
  });
});
