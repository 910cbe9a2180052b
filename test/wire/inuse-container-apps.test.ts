import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerAppsSource } from '../../lib/inuse/container-apps.js';
import { FakeArm } from '../support/fake-arm.js';

const ACR = 'myreg.azurecr.io';
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe('the Container Apps usage source, against ARM with nextLink paging', () => {
  let fake: FakeArm;
  beforeAll(async () => {
    fake = await FakeArm.start();
    fake.app(
      'shop',
      'web',
      [{ name: 'web', image: `${ACR}/shop/web:42` }],
      [
        { name: 'web--40', active: false, containers: [{ name: 'web', image: `${ACR}/shop/web:40` }] },
        { name: 'web--41', active: true, containers: [{ name: 'web', image: `${ACR}/shop/web:41` }] },
        { name: 'web--42', active: true, containers: [{ name: 'web', image: `${ACR}/shop/web:42` }] },
      ],
    );
    fake.app(
      'shop',
      'api',
      [{ name: 'api', image: `${ACR}/shop/api:7` }],
      [{ name: 'api--7', active: true, containers: [{ name: 'api', image: `${ACR}/shop/api:7` }] }],
    );
    fake.app('data', 'etl', [{ name: 'etl', image: `${ACR}/data/etl:3` }], []);
    fake.job('data', 'nightly', [{ name: 'job', image: `${ACR}/data/nightly:5` }]);
  });
  afterAll(() => fake.close());

  const config = (fields: { resourceGroup?: string } = {}) => ({
    kind: 'containerApps' as const,
    name: 'aca',
    subscriptionId: fake.subscriptionId,
    endpoint: fake.url,
    ...fields,
  });

  it('reads the active revisions, the current templates and the jobs, following nextLink', async () => {
    const source = containerAppsSource(config(), { credential, agent: fake.agent });
    const uses = await source.read(new AbortController().signal);
    const pairs = uses.map((use) => `${use.user} -> ${use.reference}`);
    expect(pairs).toEqual(
      expect.arrayContaining([
        `aca: app web revision web--41 -> ${ACR}/shop/web:41`,
        `aca: app web revision web--42 -> ${ACR}/shop/web:42`,
        `aca: app web (template) -> ${ACR}/shop/web:42`,
        `aca: app etl (template) -> ${ACR}/data/etl:3`,
        `aca: job nightly -> ${ACR}/data/nightly:5`,
      ]),
    );
    expect(pairs.some((pair) => pair.endsWith('shop/web:40'))).toBe(false);
    // Three apps in pages of two: the subscription list took two pages; web's revisions two.
    const appPages = fake.requests.filter((path) => path.endsWith('/providers/Microsoft.App/containerApps'));
    expect(appPages).toHaveLength(2);
    expect(source.calls()).toBe(fake.requests.length);
  });

  it('reads one resource group when told to', async () => {
    fake.requests.length = 0;
    const source = containerAppsSource(config({ resourceGroup: 'data' }), { credential, agent: fake.agent });
    const uses = await source.read(new AbortController().signal);
    expect(uses.map((use) => use.reference).sort()).toEqual([`${ACR}/data/etl:3`, `${ACR}/data/nightly:5`]);
    expect(fake.requests.every((path) => path.includes('/resourceGroups/data/'))).toBe(true);
  });

  it("fails with ARM's words when the identity has no Reader role", async () => {
    fake.deny = true;
    try {
      const source = containerAppsSource(config(), { credential, agent: fake.agent });
      await expect(source.read(new AbortController().signal)).rejects.toThrow(
        /Azure Resource Manager answered 403 AuthorizationFailed.*Reader role/,
      );
    } finally {
      fake.deny = false;
    }
  });
});
