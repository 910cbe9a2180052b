/** Wire tests: the OCI provider authenticates, retries and fails with errors that say what to do. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, RegistryAuthError, RegistryUnavailableError, ThrottledError } from '../../lib/errors.js';
import { createOciProvider, type OciProviderOptions } from '../../lib/providers/oci/index.js';
import type { OciRegistryConfig } from '../../lib/config/schema.js';
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

function providerFor(endpoint: string, config: Partial<OciRegistryConfig> = {}, options: OciProviderOptions = {}) {
  const sleeps: number[] = [];
  const provider = createOciProvider(
    { name: 'fake', provider: 'oci', endpoint, repositories: [], ...config },
    { env: {}, sleep: async (ms) => void sleeps.push(ms), retry: { baseDelayMs: 1, maxAttempts: 4 }, ...options },
  );
  return { provider, sleeps };
}

const HEX = 'a'.repeat(64);

describe('token auth', () => {
  it(
    'answers a Bearer challenge by fetching a token with the challenge scope and basic credentials, then ' + 'retries',
    async () => {
      const fake = await start({ auth: { kind: 'token', username: 'robot', password: 's3cret' } });
      fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
      const { provider } = providerFor(
        fake.url,
        { auth: { usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' } },
        { env: { REG_USER: 'robot', REG_PASS: 's3cret' } },
      );

      const tags = (await provider.listTags('app')).tags;

      expect(tags).toEqual(['v1']);
      expect(fake.tokenRequests).toEqual([
        { scopes: ['repository:app:pull'], service: 'fake-registry', basicOk: true },
      ]);
      expect(fake.requestLines()).toEqual(['GET /v2/app/tags/list', 'GET /token', 'GET /v2/app/tags/list']);
      expect(provider.stats.apiCalls).toBe(3);
    },
  );

  it('reuses a token per scope and fetches the next scope up front, without another 401', async () => {
    const fake = await start({ auth: { kind: 'token' } });
    fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    fake.pushImage('web', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const { provider } = providerFor(fake.url);

    await provider.listImages('app');
    await provider.listImages('web');

    const unauthorized = fake.requests.filter(
      (request) => request.path !== '/token' && request.authorization === undefined,
    );
    expect(unauthorized).toHaveLength(1);
    expect(fake.tokenRequests.map((request) => request.scopes)).toEqual([
      ['repository:app:pull'],
      ['repository:web:pull'],
    ]);
  });

  it('fetches a new token when the cached one has expired, without waiting for a 401', async () => {
    const fake = await start({ auth: { kind: 'token', tokenLifetimeS: 60 } });
    fake.pushImage('app', { tags: ['v1'] });
    let nowMs = Date.parse('2025-01-01T00:00:00Z');
    const { provider } = providerFor(fake.url, {}, { now: () => new Date(nowMs) });
    await provider.listTags('app');

    nowMs += 61_000;
    await provider.listTags('app');

    expect(fake.requestLines()).toEqual([
      'GET /v2/app/tags/list',
      'GET /token',
      'GET /v2/app/tags/list',
      'GET /token',
      'GET /v2/app/tags/list',
    ]);
  });

  it('fetches a new token when the registry stops accepting the cached one mid-run', async () => {
    const fake = await start({ auth: { kind: 'token' } });
    fake.pushImage('app', { tags: ['v1'] });
    const { provider } = providerFor(fake.url);
    await provider.listTags('app');

    fake.revokeTokens();
    const tags = (await provider.listTags('app')).tags;

    expect(tags).toEqual(['v1']);
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('asks for pull and delete when deleting, as distribution, Harbor and Keppel check the delete action', async () => {
    const fake = await start({ auth: { kind: 'token' } });
    const image = fake.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' });
    const { provider } = providerFor(fake.url);

    const [result] = await provider.delete('app', [{ digest: image.digest, tags: ['v1'], action: 'delete-manifest' }]);

    expect(result).toMatchObject({ ok: true });
    expect(fake.tokenRequests.at(-1)?.scopes).toContain('repository:app:pull,delete');
  });

  it(
    'throws RegistryAuthError naming the variables (and never their values) when the token service refuses ' + 'them',
    async () => {
      const fake = await start({ auth: { kind: 'token', username: 'robot', password: 'right' } });
      fake.pushImage('app', { tags: ['v1'] });
      const { provider } = providerFor(
        fake.url,
        { auth: { usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' } },
        { env: { REG_USER: 'robot', REG_PASS: 'wrong-password' } },
      );

      const listing = provider.listTags('app');

      await expect(listing).rejects.toBeInstanceOf(RegistryAuthError);
      await expect(listing).rejects.toThrow(/REG_USER and REG_PASS/);
      await expect(listing).rejects.not.toThrow(/wrong-password/);
    },
  );

  it('sends a bearer token from the variable named by tokenEnv', async () => {
    const fake = await start({ auth: { kind: 'bearer', token: 'pat-123' } });
    fake.pushImage('app', { tags: ['v1'] });
    const { provider } = providerFor(fake.url, { auth: { tokenEnv: 'REG_TOKEN' } }, { env: { REG_TOKEN: 'pat-123' } });

    const tags = (await provider.listTags('app')).tags;

    expect(tags).toEqual(['v1']);
    expect(fake.requests.map((request) => request.authorization)).toEqual(['Bearer pat-123']);
  });

  it('fails with RegistryAuthError naming tokenEnv when the registry refuses the token', async () => {
    const fake = await start({ auth: { kind: 'bearer', token: 'pat-123' } });
    fake.pushImage('app', { tags: ['v1'] });
    const { provider } = providerFor(fake.url, { auth: { tokenEnv: 'REG_TOKEN' } }, { env: { REG_TOKEN: 'expired' } });

    const listing = provider.listTags('app');

    await expect(listing).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(listing).rejects.toThrow(/REG_TOKEN/);
  });

  it('raises ConfigError naming a credential variable that is not set, before any request', async () => {
    const fake = await start();

    const build = () =>
      providerFor(
        fake.url,
        { auth: { usernameEnv: 'REG_USER', passwordEnv: 'REG_PASS' } },
        { env: { REG_USER: 'robot' } },
      );

    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/REG_PASS/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('retries', () => {
  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    fake.fault({
      method: 'GET',
      path: '/v2/app/tags/list',
      replies: [{ status: 429, headers: { 'retry-after': '7' }, body: { errors: [{ code: 'TOOMANYREQUESTS' }] } }],
    });
    const { provider, sleeps } = providerFor(fake.url);

    const tags = (await provider.listTags('app')).tags;

    expect(tags).toEqual(['v1']);
    expect(sleeps).toEqual([7000]);
    expect(provider.stats).toEqual({ apiCalls: 2, retries: 1, throttled: 1 });
  });

  it('reads Retry-After given as an HTTP date against the provider clock', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    const nowMs = Date.parse('2025-01-01T00:00:00Z');
    fake.fault({
      path: '/v2/app/tags/list',
      replies: [{ status: 429, headers: { 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' } }],
    });
    const { provider, sleeps } = providerFor(fake.url, {}, { now: () => new Date(nowMs) });

    await provider.listTags('app');

    expect(sleeps).toEqual([3000]);
  });

  it('caps a very long Retry-After at 60 s rather than hanging the run', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    fake.fault({ path: '/v2/app/tags/list', replies: [{ status: 503, headers: { 'retry-after': '3600' } }] });
    const { provider, sleeps } = providerFor(fake.url);

    await provider.listTags('app');

    expect(sleeps).toEqual([60_000]);
  });

  it.each([[502], [503], [504]])('retries a %i with backoff and then succeeds', async (status) => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    fake.fault({ path: '/v2/app/tags/list', replies: [{ status }, { status }] });
    const { provider, sleeps } = providerFor(fake.url);

    const tags = (await provider.listTags('app')).tags;

    expect(tags).toEqual(['v1']);
    expect(sleeps).toHaveLength(2);
    expect(provider.stats).toMatchObject({ apiCalls: 3, retries: 2, throttled: 0 });
  });

  it('retries a connection reset and then succeeds', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    fake.fault({ path: '/v2/app/tags/list', replies: ['reset'] });
    const { provider } = providerFor(fake.url);

    const tags = (await provider.listTags('app')).tags;

    expect(tags).toEqual(['v1']);
    expect(provider.stats).toMatchObject({ apiCalls: 2, retries: 1 });
  });

  it('throws ThrottledError naming the registry once every attempt was throttled', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    fake.fault({
      path: '/v2/app/tags/list',
      replies: Array.from({ length: 4 }, () => ({ status: 429, headers: { 'retry-after': '1' } })),
    });
    const { provider } = providerFor(fake.url);

    const listing = provider.listTags('app');

    await expect(listing).rejects.toBeInstanceOf(ThrottledError);
    await expect(listing).rejects.toThrow(/registry "fake".*concurrency/);
    expect(provider.stats).toEqual({ apiCalls: 4, retries: 3, throttled: 4 });
  });

  it('throws RegistryUnavailableError after every attempt met a 503 or a reset', async () => {
    const fake = await start();
    fake.pushImage('app', { tags: ['v1'] });
    fake.fault({ path: '/v2/app/tags/list', replies: [{ status: 503 }, 'reset', { status: 503 }, { status: 503 }] });
    const { provider } = providerFor(fake.url);

    const listing = provider.listTags('app');

    await expect(listing).rejects.toBeInstanceOf(RegistryUnavailableError);
    expect(provider.stats.apiCalls).toBe(4);
  });

  it('fails at once with RegistryUnavailableError when nothing listens at the endpoint', async () => {
    const fake = await start();
    const endpoint = fake.url;
    await fake.close();
    registry = undefined;
    const { provider, sleeps } = providerFor(endpoint);

    const listing = provider.listTags('app');

    await expect(listing).rejects.toBeInstanceOf(RegistryUnavailableError);
    await expect(listing).rejects.toThrow(`cannot reach ${endpoint} (ECONNREFUSED)`);
    expect(sleeps).toEqual([]);
  });
});

describe('errors', () => {
  it('refuses an endpoint with user:password in it, without repeating the password', async () => {
    const build = () => providerFor('https://robot:hunter2@registry.example.com');

    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/must not contain credentials/);
    expect(build).not.toThrow(/hunter2/);
  });

  it('does not follow a Link to another host (it would get our credentials)', async () => {
    const fake = await start();
    fake.createRepository('a');
    fake.fault({
      path: '/v2/_catalog',
      replies: [
        {
          status: 200,
          headers: { link: '<https://elsewhere.example/v2/_catalog?last=a>; rel="next"' },
          body: { repositories: ['a'] },
        },
      ],
    });
    const { provider } = providerFor(fake.url, { auth: { tokenEnv: 'REG_TOKEN' } }, { env: { REG_TOKEN: 'pat-123' } });

    const listing = (async () => {
      for await (const name of provider.listRepositories()) void name;
    })();

    await expect(listing).rejects.toThrow(/another host \(https:\/\/elsewhere\.example\)/);
    expect(provider.stats.apiCalls).toBe(1);
  });

  it("says why when Node's fetch refuses the endpoint's port outright", async () => {
    const { provider } = providerFor('http://127.0.0.1:1');

    const listing = provider.listTags('app');

    await expect(listing).rejects.toBeInstanceOf(RegistryUnavailableError);
    await expect(listing).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:1 \(bad port\).*another port/);
  });

  it('maps a 401 without credentials to RegistryAuthError saying how to configure auth', async () => {
    const fake = await start({ auth: { kind: 'basic', username: 'u', password: 'p' } });
    const { provider } = providerFor(fake.url);

    const listing = provider.resolveTags('app', ['v1']);

    await expect(listing).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(listing).rejects.toThrow(/usernameEnv\/passwordEnv or tokenEnv/);
  });

  it('resolves tags with one HEAD each, null for a tag that is gone', async () => {
    const fake = await start();
    const image = fake.pushImage('app', { tags: ['v1'] });
    const { provider } = providerFor(fake.url);

    const resolved = await provider.resolveTags('app', ['v1', 'gone', `sha256-${HEX}.sig`]);

    expect(resolved).toEqual(
      new Map([
        ['v1', image.digest],
        ['gone', null],
        [`sha256-${HEX}.sig`, null],
      ]),
    );
    expect(fake.requests.map((request) => request.method)).toEqual(['HEAD', 'HEAD', 'HEAD']);
  });
});
