import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import type { BlobRef, Image } from '../../lib/model.js';
import { prune } from '../../lib/run/prune.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const MiB = 1024 * 1024;
const base: BlobRef = { digest: 'sha256:base', sizeBytes: 50 * MiB };

function build(name: string, tags: string[], days: number, ownBytes: number): Image {
  return {
    ...image({ name, tags, pushedAt: daysAgo(days) }),
    blobs: [base, { digest: `sha256:layer-${name}`, sizeBytes: ownBytes }],
  };
}

function config(fields: { match?: string; pricing?: unknown } = {}) {
  return parseConfig({
    version: 1,
    dryRun: true,
    defaults: { keep: 1, minAge: '0s' },
    registries: [
      {
        name: 'local',
        provider: 'oci',
        endpoint: 'http://127.0.0.1:5000',
        repositories: [{ match: fields.match ?? '**' }],
      },
    ],
    ...(fields.pricing !== undefined ? { pricing: fields.pricing } : {}),
  });
}

function providerOf(repositories: Record<string, Image[]>) {
  const provider = new MemoryProvider({ name: 'local', repositories });
  return async (registry: RegistryConfig) => {
    if (registry.name !== 'local') throw new Error(`no provider for ${registry.name}`);
    return provider;
  };
}

describe('prune reports bytes from the one byte accounting', () => {
  const repositories = () => ({
    'app/web': [build('w2', ['2'], 1, 2 * MiB), build('w1', ['1'], 2, 3 * MiB)],
    'app/api': [build('a2', ['2'], 1, 4 * MiB), build('a1', ['1'], 2, 5 * MiB)],
    'tools/ci': [build('c1', ['1'], 1, MiB)],
  });

  it('counts a base layer shared by every repository once in the totals and says what would be reclaimed', async () => {
    const report = await prune({ config: config(), now: NOW, providerFor: providerOf(repositories()) });

    expect(report.storage?.totals).toEqual({
      bytesBefore: 50 * MiB + 15 * MiB,
      bytesAfter: 50 * MiB + 7 * MiB,
      bytesReclaimed: 8 * MiB,
      bytesUntagged: 0,
      accuracy: 'exact',
    });
    expect(report.totals.bytesBefore).toBe(65 * MiB);
    expect(report.totals.bytesReclaimed).toBe(8 * MiB);
    const web = report.registries[0]?.repositories.find((repository) => repository.name === 'app/web');
    expect(web?.bytes).toEqual({ before: 55 * MiB, reclaimed: 3 * MiB });
  });

  it('adds the cost section with the configured price', async () => {
    const report = await prune({
      config: config({ pricing: { oci: { perGBMonth: 1 } } }),
      now: NOW,
      providerFor: providerOf(repositories()),
    });

    expect(report.cost?.registries[0]?.price.model).toEqual({ kind: 'per-gb-month', perGBMonth: 1 });
    expect(report.cost?.totals?.saved).toBeCloseTo(8 / 1024, 4);
  });

  it('marks reclaimed bytes an estimate when repositories outside the rules were not listed', async () => {
    const report = await prune({
      config: config({ match: 'app/*' }),
      now: NOW,
      providerFor: providerOf(repositories()),
    });

    expect(report.storage?.registries[0]?.scopeComplete).toBe(false);
    expect(report.storage?.totals.accuracy).toBe('estimate');
  });

  it('lists unmatched repositories for accounting when asked, without planning or deleting there', async () => {
    const report = await prune({
      config: config({ match: 'app/*' }),
      now: NOW,
      providerFor: providerOf(repositories()),
      accountUnmatched: true,
    });

    expect(report.storage?.registries[0]?.scopeComplete).toBe(true);
    expect(report.storage?.registries[0]?.repositories.map((repository) => repository.name)).toEqual([
      'app/api',
      'app/web',
      'tools/ci',
    ]);
    expect(report.registries[0]?.repositories.map((repository) => repository.name)).toEqual(['app/api', 'app/web']);
    expect(report.storage?.totals.accuracy).toBe('exact');
  });
});

describe('config pricing section', () => {
  it('is optional', () => {
    expect(config().pricing).toBeUndefined();
  });

  it('names the path of a bad price and of an override for an unknown registry', () => {
    expect(() => config({ pricing: { oci: { perGBMonth: -1 }, registries: { nope: { perGBMonth: 1 } } } })).toThrow(
      'config is invalid: pricing.oci.perGBMonth: expected a price ≥ 0; pricing.registries.nope: no registry is ' +
        'named "nope"; configured: "local"',
    );
  });

  it('rejects a SKU on a registry that is not ACR', () => {
    expect(() => config({ pricing: { registries: { local: { sku: 'Basic' } } } })).toThrow(
      'pricing.registries.local.sku: only ACR registries have a SKU; an OCI registry takes perGBMonth',
    );
  });
});
