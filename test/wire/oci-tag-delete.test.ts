/**
 * Wire tests: distribution's tag delete (OCI 1.1, distribution v3, zot, Harbor), probed once per
 * registry; where it works, planned tags go by name and a manifest by digest only when no new tag
 * is on it (docs/design.md, section 5). A tag moved or pushed onto an image just before its first
 * DELETE then survives, where registry 2.8 (no tag delete) loses the move and the new tag.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { OciRegistryConfig } from '../../lib/config/schema.js';
import { createOciProvider } from '../../lib/providers/oci/index.js';
import type { DeleteRequest } from '../../lib/providers/provider.js';
import { exitCodeFor } from '../../lib/report/exit-code.js';
import { prune } from '../../lib/run/prune.js';
import { FakeOciRegistry, type FakeOciOptions } from '../support/fake-oci.js';

let registry: FakeOciRegistry | undefined;

afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function start(options: FakeOciOptions = {}): Promise<FakeOciRegistry> {
  registry = await FakeOciRegistry.start(options);
  return registry;
}

const PROBE = /^DELETE \/v2\/app\/manifests\/regprune-tag-delete-probe-[0-9a-f]{16}$/;

function providerFor(endpoint: string, fetchVia: typeof fetch = fetch) {
  return createOciProvider(
    { name: 'fake', provider: 'oci', endpoint, repositories: [] },
    { env: {}, sleep: async () => {}, retry: { baseDelayMs: 1, maxAttempts: 3 }, fetch: fetchVia },
  );
}

const deleteImage = (digest: string, tags: string[]): DeleteRequest => ({ digest, tags, action: 'delete-manifest' });

describe('tag delete', () => {
  it('probes once per registry, then deletes planned tags by name, the manifest once untagged', async () => {
    const fake = await start({ tagDelete: true });
    const first = fake.pushImage('app', { tags: ['b1'], salt: '1' });
    const second = fake.pushImage('app', { tags: ['b2'], salt: '2' });
    const provider = providerFor(fake.url);
    await provider.listInventory('app');
    const listed = fake.requests.length;

    const results = [
      ...(await provider.delete('app', [deleteImage(first.digest, ['b1'])])),
      ...(await provider.delete('app', [deleteImage(second.digest, ['b2'])])),
    ];
    const lines = fake.requestLines().slice(listed);

    expect(results.map((result) => result.ok && result.stillTaggedBy === undefined)).toEqual([true, true]);
    expect(lines.filter((line) => PROBE.test(line))).toHaveLength(1);
    expect(lines.filter((line) => !PROBE.test(line))).toEqual([
      'HEAD /v2/app/manifests/b1',
      'DELETE /v2/app/manifests/b1',
      'GET /v2/app/tags/list',
      `DELETE /v2/app/manifests/${first.digest}`,
      'HEAD /v2/app/manifests/b2',
      'DELETE /v2/app/manifests/b2',
      'GET /v2/app/tags/list',
      `DELETE /v2/app/manifests/${second.digest}`,
    ]);
    expect(fake.hasManifest('app', first.digest) || fake.hasManifest('app', second.digest)).toBe(false);
  });

  it('on registry 2.8 (400 DIGEST_INVALID to a tag delete) sends no tag delete after the probe', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['b1'] });
    const provider = providerFor(fake.url);

    await provider.delete('app', [deleteImage(image.digest, ['b1'])]);

    expect(fake.requestLines()).toEqual([expect.stringMatching(PROBE), `DELETE /v2/app/manifests/${image.digest}`]);
  });

  it('keeps a manifest that a tag pushed while its planned tags were deleted points at', async () => {
    const fake = await start({ tagDelete: true });
    const image = fake.pushImage('app', { tags: ['b1'] });
    const provider = providerFor(fake.url, async (input, init) => {
      if (init?.method === 'DELETE' && String(input).endsWith('/manifests/b1'))
        fake.repository('app').tags.set('hotfix', image.digest);
      return fetch(input, init);
    });
    await provider.listInventory('app');

    const [result] = await provider.delete('app', [deleteImage(image.digest, ['b1'])]);

    expect(result).toMatchObject({ ok: true, stillTaggedBy: ['hotfix'] });
    expect(fake.hasManifest('app', image.digest)).toBe(true);
    expect(fake.tagsOf('app')).toEqual(new Map([['hotfix', image.digest]]));
  });

  it('does not delete a planned tag that was moved onto another manifest meanwhile', async () => {
    const fake = await start({ tagDelete: true });
    const old = fake.pushImage('app', { tags: ['main'], salt: 'old' });
    const fresh = fake.pushImage('app', { tags: ['b2'], salt: 'new' });
    const provider = providerFor(fake.url);
    await provider.listInventory('app');
    fake.repository('app').tags.set('main', fresh.digest);

    const [result] = await provider.delete('app', [deleteImage(old.digest, ['main'])]);

    expect(result).toMatchObject({ ok: true });
    expect(fake.tagsOf('app').get('main')).toBe(fresh.digest);
    expect(fake.hasManifest('app', old.digest)).toBe(false);
  });
});

/** Which image DELETE the move rides on, as in the fault matrix's rows on registry 2.8. */
const POINTS = [
  { point: 'just before the first image delete of a batch', nth: 1 },
  { point: 'within a batch, the first delete in flight', nth: 2 },
] as const;

/**
 * Six builds b1..b6 (latest on b6, kept as such), keep 3 and `release-*`: b1 and b2 go in one batch. At the `nth`
 * DELETE that touches one of them (on a tag-delete registry: its tag's DELETE; on 2.8: the digest's),
 * `latest` is moved onto that image and `release-hotfix` pushed onto it, directly on the registry.
 */
async function rollbackDuringPrune(options: FakeOciOptions, nth: number) {
  const fake = await start(options);
  const builds = [1, 2, 3, 4, 5, 6].map((n) =>
    fake.pushImage('app', { tags: n === 6 ? [`b${n}`, 'latest'] : [`b${n}`], created: `2025-01-0${n}T00:00:00Z` }),
  );
  let deletes = 0;
  let movedOnto: string | null = null;
  const hooked: typeof fetch = async (input, init) => {
    const reference = /\/manifests\/([^/?]+)$/.exec(String(input))?.[1] ?? '';
    if (init?.method === 'DELETE' && !reference.startsWith('regprune-tag-delete-probe-') && ++deletes === nth) {
      movedOnto = reference.startsWith('sha256:') ? reference : (fake.tagsOf('app').get(reference) ?? null);
      if (movedOnto !== null) {
        fake.repository('app').tags.set('latest', movedOnto);
        fake.repository('app').tags.set('release-hotfix', movedOnto);
      }
    }
    return fetch(input, init);
  };
  const config = parseConfig({
    version: 1,
    dryRun: false,
    defaults: { minAge: '0s', untagged: 'keep' },
    registries: [
      {
        name: 'fake',
        provider: 'oci',
        endpoint: fake.url,
        repositories: [{ match: 'app', keep: 3, pinned: ['release-*'] }],
      },
    ],
  });
  const report = await prune({
    config,
    now: new Date('2025-06-01T00:00:00Z'),
    dryRun: false,
    providerFor: async (registryConfig) =>
      createOciProvider(registryConfig as OciRegistryConfig, { env: {}, sleep: async () => {}, fetch: hooked }),
  });
  return { fake, builds, report, movedOnto: movedOnto as string | null };
}

describe.each(POINTS)('a rollback during a prune, $point', ({ nth }) => {
  it('with tag delete, the moved latest and the new release-hotfix both survive; the run is clean', async () => {
    const { fake, report, movedOnto } = await rollbackDuringPrune({ tagDelete: true }, nth);
    const repository = report.registries[0]!.repositories[0]!;

    expect(movedOnto).not.toBeNull();
    expect(fake.tagsOf('app').get('latest')).toBe(movedOnto);
    expect(fake.tagsOf('app').get('release-hotfix')).toBe(movedOnto);
    expect(fake.hasManifest('app', movedOnto!)).toBe(true);
    expect(repository.deleted.map((entry) => entry.digest)).not.toContain(movedOnto);
    expect(repository.kept).toContainEqual(expect.objectContaining({ digest: movedOnto, reason: 'referenced' }));
    expect(repository.lostTags).toBeUndefined();
    expect(exitCodeFor(report)).toBe(0);
  });

  it('on registry 2.8, latest goes back where it was and is a lost move with the candidates (exit 1)', async () => {
    const { fake, builds, report, movedOnto } = await rollbackDuringPrune({}, nth);
    const repository = report.registries[0]!.repositories[0]!;

    expect(movedOnto).not.toBeNull();
    expect(fake.tagsOf('app').get('latest')).toBe(builds[5]!.digest);
    expect(fake.tagsOf('app').has('release-hotfix')).toBe(false);
    expect(repository.lostTags).toEqual([
      expect.objectContaining({
        tag: 'latest',
        putBackOnto: builds[5]!.digest,
        candidates: expect.arrayContaining([movedOnto]),
      }),
    ]);
    expect(repository.lostTags![0]!.candidates).toHaveLength(2);
    expect(JSON.stringify(report)).not.toContain('release-hotfix');
    expect(exitCodeFor(report)).toBe(1);
  });
});
