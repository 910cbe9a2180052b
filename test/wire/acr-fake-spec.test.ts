/**
 * The fake ACR held to the ACR data-plane swagger (api-version 2021-07-01, the extract in
 * test/fixtures/acr-data-plane/): every answer the real @azure/container-registry SDK gets from the
 * fake during a full run — token exchanges, catalog, tag and manifest listings, tag and manifest
 * reads, deletes, locked deletes, faults — must fit the operation's declared response or its
 * `default` (AcrErrors). An independent client (Python's azure-containerregistry) is
 * scripts/check-acr-fake-python.sh, kept out of `npm test` (Debian's python3-azure is ~550 MB).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, resolvePolicy, type AcrRegistryConfig } from '../../lib/config/index.js';
import { execute } from '../../lib/execute/index.js';
import { plan } from '../../lib/plan/index.js';
import { createAcrProvider } from '../../lib/providers/acr/index.js';
import { loadAcrSwagger, validateAnswer } from '../support/acr-swagger.js';
import { FakeAcr, fakeAadCredential } from '../support/fake-acr.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
const swagger = loadAcrSwagger();

let fake: FakeAcr;

beforeAll(async () => {
  fake = await FakeAcr.start();
});

afterAll(async () => {
  await fake.close();
});

describe('the fake ACR against the data-plane swagger', () => {
  it('answers a whole run, faults and locked deletes included, in the shapes the swagger declares', async () => {
    const c1 = fake.push('spec/app', { updatedAt: daysAgo(30), architecture: 'amd64' });
    const c2 = fake.push('spec/app', { updatedAt: daysAgo(30), architecture: 'arm64' });
    const index = fake.push('spec/app', { kind: 'index', tags: ['v1'], children: [c1, c2], updatedAt: daysAgo(30) });
    fake.push('spec/app', { kind: 'signature', subject: index, updatedAt: daysAgo(30) });
    const stray = fake.push('spec/app', { updatedAt: daysAgo(20) });
    fake.push('spec/app', { tags: ['v2', 'old'], updatedAt: daysAgo(10), writeEnabled: false });
    fake.push('spec/app', { tags: ['v3'], updatedAt: daysAgo(5) });
    fake.push('spec/app', { tags: ['v4'], updatedAt: daysAgo(1), locked: true });
    fake.lockTag('spec/app', 'v3', { deleteEnabled: false });
    fake.push('spec/other', { tags: ['x'], updatedAt: daysAgo(1) });
    fake.maxPageSize = 2;
    const cfg = parseConfig({
      version: 1,
      dryRun: false,
      defaults: { keep: 0, pinned: [], minAge: '0m', untagged: 'delete' },
      registries: [{ name: 'acr', provider: 'acr', endpoint: fake.endpoint, repositories: [{ match: '**' }] }],
    });
    const provider = await createAcrProvider(cfg.registries[0] as AcrRegistryConfig, {
      credential: fakeAadCredential,
      ca: fake.ca,
      retry: { retryDelayInMs: 1, maxRetryDelayInMs: 5 },
      throttle: { sleep: async () => {} },
    });
    fake.fail({ method: 'GET', path: /_manifests/, status: 429, times: 1, headers: { 'retry-after': '0' } });
    fake.fail({ method: 'DELETE', status: 503, times: 1 });

    for await (const name of provider.listRepositories()) expect(name).toMatch(/^spec\//);
    const inventory = await provider.listInventory('spec/app');
    await provider.resolveTags('spec/app', ['v1', 'gone']);
    const decided = plan(inventory, resolvePolicy(cfg, cfg.registries[0]!.repositories[0]!), NOW);
    fake.lockManifest('spec/app', stray, { deleteEnabled: false }); // locked after the listing: a 405
    const outcome = await execute({ plan: decided, inventory, provider, dryRun: false });
    await provider.close?.();

    const problems = fake.requests.flatMap((request) => validateAnswer(swagger, request));

    expect(outcome.failed.map((failed) => failed.digest)).toEqual([stray]);
    const refused = fake.requests.find((request) => request.status === 405);
    expect(refused?.body).toEqual({
      errors: [expect.objectContaining({ code: 'REGISTRY_DISALLOWED_OPERATION' })],
    });
    expect(fake.requests.some((request) => request.path.endsWith('/_tags'))).toBe(true);
    expect(fake.requests.filter((request) => request.body !== undefined).length).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});

describe('the ACR swagger validator', () => {
  it('finds missing required fields, unknown fields, bad date-times and wrong types', () => {
    const body = {
      registry: 'r',
      imageName: 'app',
      tags: [
        { name: 'v1', digest: 'sha256:x', createdTime: 'yesterday', changeableAttributes: { writeEnabled: 'no' } },
      ],
      extra: 1,
    };

    const problems = validateAnswer(swagger, { method: 'GET', path: '/acr/v1/app/_tags', status: 200, body });

    expect(problems).toEqual([
      'ContainerRegistry_GetTags(200).tags[0]: missing required lastUpdateTime',
      "ContainerRegistry_GetTags(200).tags[0].createdTime: 'yesterday' is not a date-time",
      'ContainerRegistry_GetTags(200).tags[0].changeableAttributes.writeEnabled: expected a boolean, got string',
      'ContainerRegistry_GetTags(200): unknown property extra',
    ]);
  });

  it('checks an error answer against AcrErrors and refuses a success status the operation does not declare', () => {
    const wrongError = validateAnswer(swagger, {
      method: 'DELETE',
      path: '/v2/app/manifests/sha256:0',
      status: 405,
      body: { error: 'UNSUPPORTED' },
    });
    const undeclared = validateAnswer(swagger, { method: 'DELETE', path: '/acr/v1/app/_tags/v1', status: 200 });

    expect(wrongError).toEqual(['ContainerRegistry_DeleteManifest(405): unknown property error']);
    expect(undeclared).toEqual([
      'DELETE /acr/v1/app/_tags/v1 → 200: success status not declared by ContainerRegistry_DeleteTag',
    ]);
  });
});
