import { describe, expect, it } from 'vitest';
import {
  ACR_SKUS,
  BYTES_PER_GIB,
  DAYS_PER_MONTH,
  PricingSchema,
  costRegistry,
  costSection,
  monthlyStorageCost,
  priceFor,
  pricingIssues,
} from '../../lib/cost/index.js';
import { formatIssues } from '../../lib/config/load.js';
import type { RegistryStorage, RepositoryStorage } from '../../lib/storage/types.js';

const GIB = BYTES_PER_GIB;

function repository(name: string, attributed: number, reclaimed: number): RepositoryStorage {
  return {
    name,
    accuracy: 'exact',
    images: { before: 1, after: 1, untagged: 0 },
    blobs: { before: 1, after: 1 },
    bytes: { before: attributed, attributed, after: attributed - reclaimed, reclaimed, untagged: 0 },
    oldest: null,
  };
}

function registry(provider: 'oci' | 'acr' | 'ecr', repositories: RepositoryStorage[], name = 'reg'): RegistryStorage {
  const before = repositories.reduce((sum, r) => sum + r.bytes.attributed, 0);
  const reclaimed = repositories.reduce((sum, r) => sum + r.bytes.reclaimed, 0);
  return {
    name,
    provider,
    dedupScope: provider === 'ecr' ? 'repository' : 'registry',
    accuracy: 'exact',
    scopeComplete: true,
    bytes: { before, after: before - reclaimed, reclaimed, untagged: 0 },
    blobs: { before: 1, after: 1 },
    repositories,
    oldest: [],
    notes: [],
  };
}

describe('default prices', () => {
  it('prices ECR at 0.10 and self-hosted OCI at 0.08 per GB-month, with their sources', () => {
    const ecr = priceFor({ name: 'prod', provider: 'ecr' });
    const oci = priceFor({ name: 'local', provider: 'oci' });

    expect(ecr.model).toEqual({ kind: 'per-gb-month', perGBMonth: 0.1 });
    expect(ecr.source).toMatch(/aws\.amazon\.com\/ecr\/pricing/);
    expect(oci.model).toEqual({ kind: 'per-gb-month', perGBMonth: 0.08 });
    expect(oci.currency).toBe('USD');
  });

  it('assumes ACR Standard (100 GiB included, 0.003 per GiB-day) and says the SKU is assumed', () => {
    const price = priceFor({ name: 'acr', provider: 'acr' });

    expect(price.model).toEqual({
      kind: 'acr-sku',
      sku: 'Standard',
      skuAssumed: true,
      includedGiB: 100,
      overagePerGiBDay: 0.003,
      feePerDay: 0.667,
    });
  });

  it('takes the included storage of the configured SKU, and per-registry overrides over provider ones', () => {
    const pricing = PricingSchema.parse({
      acr: { sku: 'Basic' },
      registries: { big: { sku: 'Premium', overagePerGiBDay: 0.004 } },
    });

    const basic = priceFor({ name: 'small', provider: 'acr' }, pricing);
    const premium = priceFor({ name: 'big', provider: 'acr' }, pricing);

    expect(basic.model).toMatchObject({ sku: 'Basic', skuAssumed: false, includedGiB: ACR_SKUS.Basic.includedGiB });
    expect(premium.model).toMatchObject({ sku: 'Premium', includedGiB: 500, overagePerGiBDay: 0.004 });
    expect(premium.source).toMatch(/^config/);
  });
});

describe('monthly cost arithmetic', () => {
  it('charges per GB-month linearly', () => {
    expect(monthlyStorageCost(50 * GIB, { kind: 'per-gb-month', perGBMonth: 0.1 })).toBeCloseTo(5, 10);
  });

  it('charges ACR only for storage beyond the included amount, per day times days in a month', () => {
    const model = {
      kind: 'acr-sku',
      sku: 'Basic',
      skuAssumed: false,
      includedGiB: 10,
      overagePerGiBDay: 0.003,
      feePerDay: 0.167,
    } as const;

    expect(monthlyStorageCost(9 * GIB, model)).toBe(0);
    expect(monthlyStorageCost(25 * GIB, model)).toBeCloseTo(15 * 0.003 * DAYS_PER_MONTH, 10);
  });

  it('gives ECR before, after and saved per repository and in total', () => {
    const storage = registry('ecr', [repository('web', 30 * GIB, 20 * GIB), repository('api', 10 * GIB, 0)]);

    const cost = costRegistry(storage, priceFor({ name: 'reg', provider: 'ecr' }));

    expect(cost.monthly).toEqual({ before: 4, after: 2, saved: 2 });
    expect(cost.repositories).toEqual([
      { name: 'web', monthly: { before: 3, after: 1, saved: 2 } },
      { name: 'api', monthly: { before: 1, after: 1, saved: 0 } },
    ]);
    expect(cost.fixedMonthly).toBe(0);
  });

  it('saves nothing on ACR while the registry stays within its included storage', () => {
    const storage = registry('acr', [repository('web', 60 * GIB, 30 * GIB)]);

    const cost = costRegistry(storage, priceFor({ name: 'reg', provider: 'acr' }));

    expect(cost.monthly).toEqual({ before: 0, after: 0, saved: 0 });
    expect(cost.fixedMonthly).toBeCloseTo(0.667 * DAYS_PER_MONTH, 3);
    expect(cost.notes[0]).toMatch(/SKU assumed Standard.*pricing\.registries\.reg\.sku/);
  });

  it(
    'applies ACR included storage to the bytes that stay and gives the saving to the repositories that ' + 'reclaim',
    () => {
      // Standard: 100 GiB included. 110 GiB before, 100 after: all 10 GiB of overage are saved.
      const storage = registry('acr', [repository('web', 10 * GIB, 10 * GIB), repository('api', 100 * GIB, 0)]);

      const cost = costRegistry(storage, priceFor({ name: 'reg', provider: 'acr' }));

      const overage = 10 * 0.003 * DAYS_PER_MONTH;
      expect(cost.monthly.before).toBeCloseTo(overage, 4);
      expect(cost.monthly.after).toBe(0);
      const [web, api] = cost.repositories;
      expect(web?.monthly.saved).toBeCloseTo(overage, 4);
      expect(web?.monthly.after).toBe(0);
      expect(api?.monthly).toEqual({ before: 0, after: 0, saved: 0 });
    },
  );

  it('adds registries into totals when they share a currency, and refuses to add mixed currencies', () => {
    const storages = [
      registry('ecr', [repository('a', 10 * GIB, 0)], 'one'),
      registry('oci', [repository('b', 10 * GIB, 10 * GIB)], 'two'),
    ];

    const same = costSection(storages);
    const mixed = costSection(storages, PricingSchema.parse({ currency: 'EUR' }));

    expect(same.totals).toEqual({ before: 1.8, after: 1, saved: 0.8, fixedMonthly: 0 });
    expect(mixed.currency).toBe('EUR');
    expect(same.method).toMatch(/included storage/);
  });
});

describe('pricing config validation', () => {
  it.each([
    [{ ecr: { perGBMonth: -1 } }, 'ecr.perGBMonth: expected a price ≥ 0'],
    [{ acr: { sku: 'Gold' } }, 'acr.sku: expected "Basic", "Standard" or "Premium"'],
    [{ currency: 'dollars' }, 'currency: expected a three-letter currency code such as USD or EUR'],
    [{ ecr: { perGBMonth: 0.1, perGB: 1 } }, 'ecr: unknown key "perGB"; remove it or check the spelling'],
    [{ acr: { includedGiB: -5 } }, 'acr.includedGiB: expected a number of GiB ≥ 0'],
  ])('rejects %j with a message naming the path', (input, message) => {
    const result = PricingSchema.safeParse(input);

    expect(result.success).toBe(false);
    expect(formatIssues(result.error?.issues ?? [])).toContain(message);
  });

  it('rejects a price that is not a number', () => {
    const result = PricingSchema.safeParse({ oci: { perGBMonth: 'cheap' } });

    expect(result.success).toBe(false);
    expect(formatIssues(result.error?.issues ?? []).join('\n')).toMatch(/^oci\.perGBMonth: .*expected a price ≥ 0/);
  });

  it('rejects overrides for unknown registries and fields the provider has no use for', () => {
    const pricing = PricingSchema.parse({
      registries: { nope: { perGBMonth: 1 }, prod: { sku: 'Basic' }, azure: { perGBMonth: 1 } },
    });
    const registries = [
      { name: 'prod', provider: 'ecr' as const },
      { name: 'azure', provider: 'acr' as const },
    ];

    const issues = pricingIssues(pricing, registries);

    expect(issues).toEqual([
      { path: ['pricing', 'registries', 'nope'], message: 'no registry is named "nope"; configured: "prod", "azure"' },
      {
        path: ['pricing', 'registries', 'prod', 'sku'],
        message: 'only ACR registries have a SKU; an ECR registry takes perGBMonth',
      },
      {
        path: ['pricing', 'registries', 'azure', 'perGBMonth'],
        message: 'ACR bills by SKU: use sku, includedGiB and overagePerGiBDay instead',
      },
    ]);
  });
});
