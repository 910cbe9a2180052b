/** Wire tests: the OCI provider deletes manifests and tags, and turns every refusal into a per-item result. */
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryUnavailableError } from '../../lib/errors.js';
import { createOciProvider } from '../../lib/providers/oci/index.js';
import { DeleteAbortedError, type DeleteRequest } from '../../lib/providers/provider.js';
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

function providerFor(endpoint: string) {
  return createOciProvider(
    { name: 'fake', provider: 'oci', endpoint, repositories: [] },
    { env: {}, sleep: async () => {}, retry: { baseDelayMs: 1, maxAttempts: 3 } },
  );
}

const deleteManifest = (digest: string, tags: string[] = []): DeleteRequest => ({
  digest,
  tags,
  action: 'delete-manifest',
});

describe('delete', () => {
  it('on a registry without tag delete (2.8) probes once, then deletes by digest, taking every tag on it', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['b1', 'b1-alias'] });
    const provider = providerFor(fake.url);

    const results = await provider.delete('app', [deleteManifest(image.digest, ['b1', 'b1-alias'])]);

    expect(results).toEqual([{ request: deleteManifest(image.digest, ['b1', 'b1-alias']), ok: true }]);
    expect(fake.hasManifest('app', image.digest)).toBe(false);
    expect(fake.tagsOf('app').size).toBe(0);
    expect(fake.requestLines()).toEqual([
      expect.stringMatching(/^DELETE \/v2\/app\/manifests\/regprune-tag-delete-probe-[0-9a-f]{16}$/),
      `DELETE /v2/app/manifests/${image.digest}`,
    ]);
  });

  it('treats a manifest that is already gone (404) as done', async () => {
    const fake = await start();
    fake.createRepository('app');
    const digest = `sha256:${'b'.repeat(64)}`;
    const provider = providerFor(fake.url);

    const [result] = await provider.delete('app', [deleteManifest(digest)]);

    expect(result).toMatchObject({ ok: true, alreadyGone: true });
  });

  it('reports a 405 as a failed item that says how to enable deletes, and goes on with the rest', async () => {
    const fake = await start({ deleteEnabled: false });
    const first = fake.pushImage('app', { tags: ['b1'] });
    const second = fake.pushImage('app', { tags: ['b2'] });
    const provider = providerFor(fake.url);

    const results = await provider.delete('app', [deleteManifest(first.digest), deleteManifest(second.digest)]);

    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe('UNSUPPORTED');
        expect(result.error).toContain('storage.delete.enabled: true');
        expect(result.error).toContain('REGISTRY_STORAGE_DELETE_ENABLED=true');
      }
    }
    expect(fake.hasManifest('app', first.digest)).toBe(true);
  });

  it('reports a 503 that outlasts the retries as a failed item, not an exception', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['b1'] });
    fake.fault({ method: 'DELETE', path: /manifests/, replies: [{ status: 503 }, { status: 503 }, { status: 503 }] });
    const provider = providerFor(fake.url);

    const [result] = await provider.delete('app', [deleteManifest(image.digest)]);

    expect(result).toMatchObject({ ok: false, code: '503' });
    expect(provider.stats).toMatchObject({ apiCalls: 3, retries: 2 });
  });

  it(
    'throws RegistryUnavailableError (inside DeleteAbortedError) when the registry cannot be reached at ' + 'all',
    async () => {
      const fake = await start();
      const endpoint = fake.url;
      await fake.close();
      registry = undefined;
      const provider = providerFor(endpoint);

      const error = await provider
        .delete('app', [deleteManifest(`sha256:${'c'.repeat(64)}`)])
        .catch((thrown: unknown) => thrown);

      expect(error).toBeInstanceOf(DeleteAbortedError);
      expect((error as DeleteAbortedError).failure).toBeInstanceOf(RegistryUnavailableError);
      expect((error as DeleteAbortedError).results).toEqual([]);
    },
  );

  it('when the registry goes away mid-batch, starts no new DELETE and reports exactly what was deleted', async () => {
    const fake = await start();
    const digests = Array.from({ length: 8 }, (_, index) => fake.pushImage('app', { tags: [`b${index}`] }).digest);
    const doomed = digests[2]!;
    // Every DELETE of the third manifest has its connection dropped (more times than the retries).
    fake.fault({
      method: 'DELETE',
      path: `/v2/app/manifests/${doomed}`,
      replies: ['reset', 'reset', 'reset', 'reset'],
    });
    const provider = createOciProvider(
      { name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [], concurrency: 2 },
      { env: {}, sleep: async () => {}, retry: { baseDelayMs: 1, maxAttempts: 3 } },
    );

    const error = await provider
      .delete(
        'app',
        digests.map((digest) => deleteManifest(digest)),
      )
      .catch((thrown: unknown) => thrown);
    const deletesAtReturn = fake.requestLines().filter((line) => line.startsWith('DELETE')).length;
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(error).toBeInstanceOf(DeleteAbortedError);
    const reported = (error as DeleteAbortedError).results
      .filter((result) => result.ok)
      .map((result) => result.request.digest);
    const gone = digests.filter((digest) => !fake.hasManifest('app', digest));
    expect(gone.sort()).toEqual(reported.sort());
    expect(fake.hasManifest('app', doomed)).toBe(true);
    // Nothing was still being deleted after the call returned, and the later manifests were never tried.
    expect(fake.requestLines().filter((line) => line.startsWith('DELETE'))).toHaveLength(deletesAtReturn);
    expect(fake.hasManifest('app', digests.at(-1)!)).toBe(true);
  });

  it('sends one DELETE per manifest, at most `concurrency` at once, results in request order', async () => {
    const fake = await start();
    const digests = Array.from({ length: 12 }, (_, index) => fake.pushImage('app', { tags: [`b${index}`] }).digest);
    let inFlight = 0;
    let mostInFlight = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        return await fetch(input, init);
      } finally {
        inFlight--;
      }
    };
    const provider = createOciProvider(
      { name: 'fake', provider: 'oci', endpoint: fake.url, repositories: [], concurrency: 3 },
      { env: {}, fetch: countingFetch },
    );

    const results = await provider.delete(
      'app',
      digests.map((digest) => deleteManifest(digest)),
    );

    expect(results.every((result) => result.ok)).toBe(true);
    expect(results.map((result) => result.request.digest)).toEqual(digests);
    expect(provider.stats.apiCalls).toBe(12);
    expect(mostInFlight).toBeLessThanOrEqual(3);
    expect(mostInFlight).toBeGreaterThan(1);
  });
});

describe('restoreTag (docs/design.md, section 5)', () => {
  it('puts a tag back onto a deleted manifest with the bytes and media type read while listing', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['b1'] });
    const provider = providerFor(fake.url);
    await provider.listInventory('app');
    await provider.delete('app', [deleteManifest(image.digest, ['b1'])]);

    await provider.restoreTag?.('app', 'latest', image.digest);

    expect(await provider.resolveTags('app', ['latest'])).toEqual(new Map([['latest', image.digest]]));
    const put = fake.requests.find((request) => request.method === 'PUT')!;
    expect(put.path).toBe('/v2/app/manifests/latest');
    expect(put.contentType).toBe(image.mediaType);
  });

  it('refuses to put a tag onto a manifest it did not read in this run, saying what to do', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['b1'] });
    const provider = providerFor(fake.url);

    await expect(provider.restoreTag?.('app', 'latest', image.digest)).rejects.toThrow(/Push it again/);
  });
});
