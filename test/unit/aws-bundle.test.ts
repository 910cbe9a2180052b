/**
 * The esbuild bundle Terraform deploys: built into a temporary directory, free of Azure code, and
 * able to run a scheduled prune end to end against the fake ECR.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleAws, type BundleResult } from '../../scripts/bundle-aws.js';
import { DAY_MS } from '../support/builders.js';
import { digestOf, startFakeEcr, type FakeEcr } from '../support/fake-ecr.js';

const ENV_KEYS = [
  'REGPRUNE_CONFIG',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_PROFILE',
  'REGPRUNE_STATE',
  'REGPRUNE_STATE_BUCKET',
] as const;
const savedEnv = new Map<string, string | undefined>();
let outdir: string;
let bundle: BundleResult;
let fake: FakeEcr;

beforeAll(async () => {
  for (const key of ENV_KEYS) savedEnv.set(key, process.env[key]);
  outdir = await mkdtemp(join(tmpdir(), 'regprune-aws-bundle-test-'));
  bundle = await bundleAws({ outdir });
  fake = await startFakeEcr();
});

afterAll(async () => {
  await fake.close();
  await rm(outdir, { recursive: true, force: true });
  for (const [key, value] of savedEnv) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('AWS bundle', () => {
  it('builds one entry per handler and leaves every Azure module out', () => {
    const inputs = Object.keys(bundle.metafile.inputs);

    expect(Object.keys(bundle.sizes).sort()).toEqual(['http', 'main', 'scheduled']);
    expect(inputs.filter((input) => input.includes('@azure/') || input.includes('providers/acr/'))).toEqual([]);
    expect(inputs.some((input) => input.includes('lib/providers/ecr/provider.ts'))).toBe(true);
    expect(inputs.some((input) => input.includes('zod/v4/locales/de.js'))).toBe(false);
  });

  it('runs a scheduled prune from the bundled entry point', async () => {
    for (let i = 0; i < 4; i++) {
      fake.addImage('team-a/api', {
        digest: digestOf(`bundled-${i}`),
        tags: [`b${i}`],
        pushedAtMs: Date.now() - 10 * DAY_MS + i,
      });
    }
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKEFAKE';
    process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-tests';
    delete process.env.AWS_PROFILE;
    // The run lock and history in a directory instead of the state bucket.
    delete process.env.REGPRUNE_STATE_BUCKET;
    process.env.REGPRUNE_STATE = join(outdir, 'state');
    process.env.REGPRUNE_CONFIG = JSON.stringify({
      version: 1,
      dryRun: false,
      defaults: { keep: 1, minAge: '0s' },
      registries: [
        {
          name: 'aws',
          provider: 'ecr',
          endpoint: fake.registryHost,
          apiEndpoint: fake.url,
          repositories: [{ match: 'team-a/*' }],
        },
      ],
    });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    try {
      const { handler } = (await import(pathToFileURL(join(outdir, 'main.mjs')).href)) as {
        handler: (
          event: unknown,
          context: { getRemainingTimeInMillis(): number },
        ) => Promise<{ totals: { deleted: number } }>;
      };
      const result = await handler({}, { getRemainingTimeInMillis: () => 600_000 });

      expect(result.totals.deleted).toBe(3);
      expect(fake.images('team-a/api').flatMap((image) => image.tags)).toEqual(['b3']);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});
