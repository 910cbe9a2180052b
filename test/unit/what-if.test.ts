/** `regprune report --what-if`: per keep value, images, bytes (shared layers once) and cost reclaimed. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import type { Image } from '../../lib/model.js';
import type { Report } from '../../lib/report/types.js';
import { whatIfRegistry, whatIfSection } from '../../lib/report/what-if.js';
import { daysAgo, image, inventory, NOW, policy } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { Capture } from '../support/capture.js';

const GB = 1_000_000_000;

/** Five builds, newest first b5…b1; each has its own 1 GB layer and all share one 4 GB base layer. */
function builds(): Image[] {
  return [5, 4, 3, 2, 1].map((n) => ({
    ...image({ name: `b${n}`, tags: [`b${n}`], pushedAt: daysAgo(10 - n) }),
    sizeBytes: 5 * GB,
    blobs: [
      { digest: 'sha256:base', sizeBytes: 4 * GB },
      { digest: `sha256:layer-${n}`, sizeBytes: GB },
    ],
  }));
}

describe('whatIfRegistry', () => {
  it('counts a shared layer as freed only when every image holding it goes', () => {
    const result = whatIfRegistry({
      registry: 'r',
      provider: 'oci',
      repositories: [{ inventory: inventory(builds(), { repository: 'app' }), policy: policy({ keep: 0 }) }],
      keeps: [0, 1, 3],
      now: NOW,
    });

    expect(result.points.map((p) => [p.keep, p.images, p.bytes])).toEqual([
      [0, 5, 9 * GB],
      [1, 4, 4 * GB],
      [3, 2, 2 * GB],
    ]);
    expect(result.repositories[0]!.points.map((p) => p.bytes)).toEqual([9 * GB, 4 * GB, 2 * GB]);
  });

  it('prices what each keep value saves per month, falling as keep rises', () => {
    const result = whatIfRegistry({
      registry: 'r',
      provider: 'oci',
      repositories: [{ inventory: inventory(builds(), { repository: 'app' }), policy: policy({ keep: 0 }) }],
      keeps: [0, 1, 3],
      pricing: { currency: 'EUR', oci: { perGBMonth: 0.1 } },
      now: NOW,
    });

    const costs = result.points.map((p) => p.monthlyCost);
    expect(costs[0]).toBeGreaterThan(costs[1]!);
    expect(costs[1]).toBeGreaterThan(costs[2]!);
    expect(result.currency).toBe('EUR');
  });

  it('leaves a repository no rule matches out, while its blobs still count as shared', () => {
    const result = whatIfRegistry({
      registry: 'r',
      provider: 'oci',
      repositories: [
        { inventory: inventory(builds(), { repository: 'app' }), policy: policy({ keep: 0 }) },
        { inventory: inventory(builds(), { repository: 'untouched' }), policy: null },
      ],
      keeps: [0],
      now: NOW,
    });

    expect(result.repositories.map((r) => r.name)).toEqual(['app']);
    expect(result.points[0]!.images).toBe(5);
  });

  it('replaces the keep of every tag class too', () => {
    const images = builds();
    const classed = {
      ...policy({ keep: 0 }),
      classes: [{ ...policy({ keep: 5 }), match: policy({ pinned: ['b*'] }).pinned[0]! }],
    };

    const result = whatIfRegistry({
      registry: 'r',
      provider: 'oci',
      repositories: [{ inventory: inventory(images, { repository: 'app' }), policy: classed }],
      keeps: [2],
      now: NOW,
    });

    expect(result.points[0]!.images).toBe(3);
  });

  it('adds registries up into totals per keep value', () => {
    const one = whatIfRegistry({
      registry: 'a',
      provider: 'oci',
      repositories: [{ inventory: inventory(builds(), { repository: 'app' }), policy: policy({ keep: 0 }) }],
      keeps: [0, 1],
      now: NOW,
    });

    const section = whatIfSection([0, 1], [one, { ...one, name: 'b' }]);

    expect(section.totals.map((p) => [p.keep, p.images, p.bytes])).toEqual([
      [0, 10, 18 * GB],
      [1, 8, 8 * GB],
    ]);
  });
});

let dir: string;
let configPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-what-if-'));
  configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    'version: 1\ndefaults: { keep: 2, minAge: 0s, pinned: [] }\npricing: { oci: { perGBMonth: 0.1 } }\n' +
      'registries:\n  - { name: r, provider: oci, endpoint: "https://r.example",\n' +
      '      repositories: [{ match: "app/**" }] }\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function report(argv: string[], provider = new MemoryProvider({ repositories: { 'app/web': builds() } })) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = {
    stdout,
    stderr,
    clock: () => NOW,
    writeFile: async () => {},
    env: { ...process.env, REGPRUNE_STATE: join(dir, 'state') },
    providerFor: async () => provider,
  };
  const code = await main(['report', '--config', configPath, ...argv], io);
  return { code, stdout: stdout.text, stderr: stderr.text, provider };
}

describe('regprune report --what-if', () => {
  it('adds the section to the JSON report, agreeing with the report at the configured keep', async () => {
    const result = await report(['--what-if', '3,0,2', '--json']);

    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as Report;
    expect(parsed.whatIf?.keeps).toEqual([0, 2, 3]);
    const atConfigured = parsed.whatIf!.totals.find((p) => p.keep === 2)!;
    expect(atConfigured.bytes).toBe(parsed.storage!.totals.bytesReclaimed);
    expect(atConfigured.images).toBe(parsed.totals.deleted);
    expect(parsed.whatIf!.totals.map((p) => p.bytes)).toEqual([9 * GB, 3 * GB, 2 * GB]);
  });

  it('renders a table in Markdown and a table and a curve in HTML', async () => {
    const markdown = await report(['--what-if', '1,3']);
    const html = await report(['--what-if', '1,3', '--format', 'html']);

    expect(markdown.stdout).toContain('### What-if: what each keep value would reclaim');
    expect(markdown.stdout).toContain('| 1 | 4 | 3.7 GiB | $0.37 |');
    expect(html.stdout).toContain('<section id="what-if">');
    expect(html.stdout).toMatch(
      /<div class="chart" id="chart-what-if"><svg[^>]*>[\s\S]*<polyline class="what-if-bytes"/,
    );
  });

  it('has no what-if section unless asked', async () => {
    const result = await report(['--json']);

    expect((JSON.parse(result.stdout) as Report).whatIf).toBeUndefined();
  });

  it.each([
    ['1,x', '"x" is not a whole number ≥ 0'],
    ['1,,3', 'an empty value'],
    ['-1', '"-1" is not a whole number'],
    ['0,1,2,3,4,5,6,7,8,9,10,11,12', '13 values; give at most 12'],
  ])('refuses --what-if %s with exit 2, calling no registry', async (value, message) => {
    const result = await report([`--what-if=${value}`]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('like --what-if 1,3,5,10,20');
    expect(result.provider.calls).toEqual([]);
  });
});
