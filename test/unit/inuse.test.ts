import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { parseReference, registryHost, registryHosts } from '../../lib/inuse/reference.js';
import type { ImageUse, UsageSource } from '../../lib/inuse/types.js';
import { plan } from '../../lib/plan/index.js';
import type { InUse } from '../../lib/plan/types.js';
import { exitCodeFor, prune } from '../../lib/run/prune.js';
import { cosignTag, daysAgo, image, index, inventory, NOW, policy, referrer } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['nginx', { host: 'docker.io', repository: 'library/nginx', tag: 'latest', digest: null }],
    ['nginx:1.27', { host: 'docker.io', repository: 'library/nginx', tag: '1.27', digest: null }],
    ['bitnami/redis:7', { host: 'docker.io', repository: 'bitnami/redis', tag: '7', digest: null }],
    ['index.docker.io/library/nginx:1', { host: 'docker.io', repository: 'library/nginx', tag: '1', digest: null }],
    ['localhost:5000/app/web:v2', { host: 'localhost:5000', repository: 'app/web', tag: 'v2', digest: null }],
    [`127.0.0.1:5000/app/web@${DIGEST}`, { host: '127.0.0.1:5000', repository: 'app/web', tag: null, digest: DIGEST }],
    [
      `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.2@${DIGEST}`,
      { host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'team/api', tag: '1.2', digest: DIGEST },
    ],
    ['MyReg.azurecr.io/shop/cart:3', { host: 'myreg.azurecr.io', repository: 'shop/cart', tag: '3', digest: null }],
    [`docker-pullable://ghcr.io/o/a@${DIGEST}`, { host: 'ghcr.io', repository: 'o/a', tag: null, digest: DIGEST }],
  ])('reads %s as a runtime resolves it', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each(['', `sha256:${'a'.repeat(64)}`, `@${DIGEST}`, 'app/Web:1', 'app:bad tag', `app@sha256:short`, 'app:1:2'])(
    'refuses %j, which names nothing a registry can be asked for',
    (text) => {
      expect(parseReference(text)).toBeNull();
    },
  );

  it('knows the other names a registry is pulled by: ECR FIPS and dual-stack, a default port written out', () => {
    expect(registryHosts({ provider: 'ecr', endpoint: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' })).toEqual([
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      '123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com',
      '123456789012.dkr-ecr.eu-west-1.on.aws',
      '123456789012.dkr-ecr-fips.eu-west-1.on.aws',
    ]);
    expect(registryHosts({ provider: 'oci', endpoint: 'https://registry.example.com' })).toEqual([
      'registry.example.com',
      'registry.example.com:443',
    ]);
    expect(registryHosts({ provider: 'oci', endpoint: 'http://127.0.0.1:5000' })).toEqual(['127.0.0.1:5000']);
  });

  it('matches each provider by the host workloads pull from', () => {
    expect(registryHost({ provider: 'oci', endpoint: 'https://registry-1.docker.io' })).toBe('docker.io');
    expect(registryHost({ provider: 'oci', endpoint: 'http://127.0.0.1:5000' })).toBe('127.0.0.1:5000');
    expect(registryHost({ provider: 'acr', endpoint: 'https://myreg.azurecr.io' })).toBe('myreg.azurecr.io');
    expect(registryHost({ provider: 'ecr', endpoint: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' })).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    );
  });
});

function inUseOf(fields: { digests?: Record<string, string[]>; tags?: Record<string, string[]> }): InUse {
  return {
    digests: new Map(Object.entries(fields.digests ?? {})),
    tags: new Map(Object.entries(fields.tags ?? {})),
  };
}

describe('planning with images in use', () => {
  const builds = [5, 4, 3, 2, 1].map((n) => image({ name: `b${n}`, tags: [`v${n}`], pushedAt: daysAgo(10 - n) }));
  const [b5, , b3, , b1] = builds;

  it('keeps an image in use by digest far below the keep line, naming who uses it', () => {
    const result = plan(
      inventory(builds),
      policy({ keep: 1 }),
      NOW,
      inUseOf({ digests: { [b1!.digest]: ['k8s: a/Pod/x'] } }),
    );
    expect(result.keep).toContainEqual({
      digest: b1!.digest,
      tags: ['v1'],
      reason: 'in-use',
      usedBy: ['k8s: a/Pod/x'],
    });
  });

  it('does not count an image in use toward keep: the newest build is still kept as recent', () => {
    const result = plan(inventory(builds), policy({ keep: 1 }), NOW, inUseOf({ tags: { v5: ['ecs: service c/api'] } }));
    const reasons = Object.fromEntries(result.keep.map((decision) => [decision.tags[0], decision.reason]));
    expect(reasons).toEqual({ v5: 'in-use', v4: 'recent' });
  });

  it('keeps an image a workload names by a tag on it, and deletes the rest', () => {
    const result = plan(
      inventory(builds),
      policy({ keep: 1 }),
      NOW,
      inUseOf({ tags: { v3: ['lambda: function f:1'] } }),
    );
    expect(result.keep.map((decision) => decision.digest).sort()).toEqual([b5!.digest, b3!.digest].sort());
    expect(result.delete).toHaveLength(3);
  });

  it('keeps the platform manifests of an index in use and the signature of an image in use', () => {
    const amd64 = image({ name: 'amd64', kind: 'image' });
    const arm64 = image({ name: 'arm64', kind: 'image' });
    const multi = index({ name: 'multi', tags: ['old'], children: [amd64, arm64], pushedAt: daysAgo(40) });
    const newest = image({ name: 'new', tags: ['new'], pushedAt: daysAgo(1) });
    const signature = referrer(multi, { tags: [cosignTag(multi)] });
    const result = plan(
      inventory([multi, amd64, arm64, newest, signature]),
      policy({ keep: 1 }),
      NOW,
      inUseOf({ digests: { [multi.digest]: ['aca: app web revision web--3'] } }),
    );
    expect(result.delete).toEqual([]);
  });

  it('plans exactly as without in-use protection when nothing is in use', () => {
    const without = plan(inventory(builds), policy({ keep: 2 }), NOW);
    expect(plan(inventory(builds), policy({ keep: 2 }), NOW, inUseOf({}))).toEqual(without);
  });
});

/** A usage source that answers from a list, fails, or never answers. */
function source(name: string, behaviour: ImageUse[] | Error | 'hang'): UsageSource {
  let calls = 0;
  return {
    name,
    kind: 'kubernetes',
    calls: () => calls,
    read: (signal) => {
      calls++;
      if (behaviour === 'hang') return new Promise<never>(() => signal.throwIfAborted());
      return behaviour instanceof Error ? Promise.reject(behaviour) : Promise.resolve(behaviour);
    },
  };
}

describe('a run with usage sources', () => {
  const registry = 'http://127.0.0.1:5000';
  const builds = () => [3, 2, 1].map((n) => image({ name: `web-${n}`, tags: [`${n}`], pushedAt: daysAgo(4 - n) }));

  function setup(inUse: Array<Record<string, unknown>>, behaviours: Record<string, ImageUse[] | Error | 'hang'>) {
    const provider = new MemoryProvider({ name: 'local', repositories: { 'app/web': builds(), 'app/api': builds() } });
    const config = parseConfig({
      version: 1,
      dryRun: false,
      defaults: { keep: 1, minAge: '0s' },
      registries: [{ name: 'local', provider: 'oci', endpoint: registry, repositories: [{ match: 'app/**' }] }],
      inUse,
    });
    const run = (dryRun?: boolean) =>
      prune({
        config,
        now: NOW,
        ...(dryRun ? { dryRun } : {}),
        providerFor: async (_: RegistryConfig) => provider,
        usageSourceFor: (entry) => source(entry.name, behaviours[entry.name] ?? []),
      });
    return { provider, run };
  }

  it('keeps a build a pod runs and deletes the other old one', async () => {
    const web1 = image({ name: 'web-1', tags: ['1'] }).digest;
    const { provider, run } = setup([{ name: 'prod', kind: 'kubernetes' }], {
      prod: [{ reference: '127.0.0.1:5000/app/web:1', user: 'prod: shop/Pod/web-abc' }],
    });
    const report = await run();
    const web = report.registries[0]!.repositories.find((repository) => repository.name === 'app/web')!;
    expect(web.kept).toContainEqual(
      expect.objectContaining({
        digest: web1,
        tags: ['1'],
        reason: 'in-use',
        usedBy: ['prod: shop/Pod/web-abc'],
      }),
    );
    expect(web.deleted.map((entry) => entry.tags)).toEqual([['2']]);
    expect(provider.deletedDigests()).toHaveLength(3); // app/web: 2; app/api: 2 and 1
    expect(report.inUse).toMatchObject([{ name: 'prod', references: 1, matched: 1, apiCalls: 1 }]);
    expect(exitCodeFor(report)).toBe(0);
  });

  it('deletes nothing in the registry a failed source could protect, says why, and exits 1', async () => {
    const { provider, run } = setup([{ name: 'prod', kind: 'kubernetes' }], { prod: new Error('403 forbidden') });
    const report = await run();
    expect(provider.deletedDigests()).toEqual([]);
    expect(report.registries[0]!.error).toMatch(/in-use source "prod" \(kubernetes\) could not be read: 403 forbidden/);
    expect(report.registries[0]!.error).toMatch(/onSourceError: warn/);
    expect(report.inUse).toMatchObject([{ name: 'prod', error: '403 forbidden', onSourceError: 'fail' }]);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('shows a failed source in a dry run too: nothing would be deleted, each deletion pending with why', async () => {
    const { run } = setup([{ name: 'prod', kind: 'kubernetes' }], { prod: new Error('403 forbidden') });
    const report = await run(true);
    const web = report.registries[0]!.repositories.find((repository) => repository.name === 'app/web')!;
    expect(web.deleted).toEqual([]);
    expect(web.pending.map((entry) => entry.reason)).toEqual([
      expect.stringMatching(/in-use source "prod"/),
      expect.stringMatching(/in-use source "prod"/),
    ]);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('goes on without a failed source that says onSourceError: warn', async () => {
    const { provider, run } = setup([{ name: 'prod', kind: 'kubernetes', onSourceError: 'warn' }], {
      prod: new Error('throttled'),
    });
    const report = await run();
    expect(provider.deletedDigests()).toHaveLength(4);
    expect(exitCodeFor(report)).toBe(0);
  });

  it('counts a source that does not answer within its timeout as unreadable', async () => {
    const { provider, run } = setup([{ name: 'slow', kind: 'ecs', region: 'eu-west-1', timeout: 1 }], {
      slow: 'hang',
    });
    const report = await run();
    expect(provider.deletedDigests()).toEqual([]);
    expect(report.registries[0]!.error).toMatch(/no answer within 1 s/);
  });

  it('ignores references to other registries', async () => {
    const { provider, run } = setup([{ name: 'prod', kind: 'kubernetes' }], {
      prod: [
        { reference: 'ghcr.io/app/web:1', user: 'prod: a/Pod/x' },
        { reference: 'nginx', user: 'prod: a/Pod/y' },
      ],
    });
    const report = await run();
    expect(provider.deletedDigests()).toHaveLength(4);
    expect(report.inUse).toMatchObject([{ references: 2, matched: 0 }]);
  });
});

describe('the inUse config', () => {
  const base = {
    version: 1,
    registries: [{ name: 'local', provider: 'oci', endpoint: 'http://127.0.0.1:5000', repositories: [] }],
  };

  it('refuses a source naming a registry the config does not have, naming the ones it has', () => {
    expect(() => parseConfig({ ...base, inUse: [{ name: 'k', kind: 'kubernetes', registries: ['prod'] }] })).toThrow(
      /inUse\[0\]\.registries\[0\].*no registry named "prod".*local/s,
    );
  });

  it('refuses an unknown kind, listing the kinds there are', () => {
    expect(() => parseConfig({ ...base, inUse: [{ name: 'k', kind: 'nomad' }] })).toThrow(
      /kind "kubernetes", "ecs", "lambda" or "containerApps"/,
    );
  });

  it('refuses an endpoint without a scheme, naming where, instead of crashing', () => {
    expect(() =>
      parseConfig({ ...base, inUse: [{ name: 'e', kind: 'ecs', region: 'eu-west-1', endpoint: 'ecs.example.com' }] }),
    ).toThrow(/inUse\[0\]\.endpoint.*expected an http:\/\/ or https:\/\/ URL/);
  });

  it('refuses two sources of one name', () => {
    expect(() =>
      parseConfig({
        ...base,
        inUse: [
          { name: 'k', kind: 'kubernetes' },
          { name: 'k', kind: 'lambda', region: 'eu-west-1' },
        ],
      }),
    ).toThrow(/duplicate source name "k"/);
  });
});

describe('the summary of a run with usage sources', () => {
  it('says what each source found, which images it keeps and for whom, and why a source failed', async () => {
    const { formatSummary } = await import('../../lib/report/summary.js');
    const provider = new MemoryProvider({
      name: 'local',
      repositories: {
        'app/web': [3, 2, 1].map((n) => image({ name: `s-${n}`, tags: [`${n}`], pushedAt: daysAgo(4 - n) })),
      },
    });
    const config = parseConfig({
      version: 1,
      defaults: { keep: 1, minAge: '0s' },
      registries: [
        { name: 'local', provider: 'oci', endpoint: 'http://127.0.0.1:5000', repositories: [{ match: 'app/**' }] },
      ],
      inUse: [
        { name: 'prod', kind: 'kubernetes' },
        { name: 'fns', kind: 'lambda', region: 'eu-west-1', onSourceError: 'warn' },
      ],
    });
    const report = await prune({
      config,
      now: NOW,
      providerFor: async () => provider,
      usageSourceFor: (entry) =>
        entry.name === 'prod'
          ? source('prod', [{ reference: '127.0.0.1:5000/app/web:1', user: 'prod: shop/Deployment/web' }])
          : source('fns', new Error('AccessDeniedException')),
    });
    const text = formatSummary(report);
    expect(text).toContain('prod (kubernetes): 1 image references, 1 in these registries; 1 API calls');
    expect(text).toMatch(/keeps local\/app\/web@sha256:[0-9a-f]{12} \(1\): prod: shop\/Deployment\/web/);
    expect(text).toContain('fns (lambda): could not be read: AccessDeniedException; the run went on without it');
  });
});
