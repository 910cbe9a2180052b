/**
 * `regprune import ecr-lifecycle|acr-purge`: the printed config validates, plans as the source
 * did, and says what is not exact.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import { shellWords } from '../../lib/cli/import/acr-purge.js';
import { parseConfigText } from '../../lib/config/load.js';
import { resolvePolicy } from '../../lib/config/policy.js';
import { plan } from '../../lib/plan/index.js';
import { daysAgo, image, inventory, NOW } from '../support/builders.js';
import { Capture } from '../support/capture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = { stdout, stderr, clock: () => NOW, writeFile: async () => {} };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Imports, writes the YAML to a file and runs `regprune validate` on it. */
async function importAndValidate(argv: string[]) {
  const imported = await run(argv);
  const path = join(dir, `imported-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, imported.stdout);
  const validated = await run(['validate', '--config', path]);
  return { imported, validated };
}

async function policyFile(rules: unknown[], wrap = false): Promise<string> {
  const path = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  const policy = { rules };
  await writeFile(path, JSON.stringify(wrap ? { lifecyclePolicyText: JSON.stringify(policy) } : policy));
  return path;
}

const rule = (priority: number, selection: Record<string, unknown>, action = 'expire') => ({
  rulePriority: priority,
  selection,
  action: { type: action },
});
const PR_COUNT = rule(1, {
  tagStatus: 'tagged',
  tagPrefixList: ['pr-'],
  countType: 'imageCountMoreThan',
  countNumber: 3,
});
const MAIN_AGE = rule(2, {
  tagStatus: 'tagged',
  tagPatternList: ['main-*'],
  countType: 'sinceImagePushed',
  countUnit: 'days',
  countNumber: 14,
});
const UNTAGGED_AGE = rule(3, {
  tagStatus: 'untagged',
  countType: 'sinceImagePushed',
  countUnit: 'days',
  countNumber: 1,
});
const ANY_COUNT = rule(9, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 50 });

describe('import ecr-lifecycle', () => {
  it.each([
    ['a count rule', [PR_COUNT], false],
    ['an age rule', [MAIN_AGE], false],
    ['tagged, untagged and any rules', [PR_COUNT, MAIN_AGE, UNTAGGED_AGE, ANY_COUNT], false],
    ['the get-lifecycle-policy output', [PR_COUNT, UNTAGGED_AGE], true],
    [
      'rules it cannot express',
      [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['prod*', '*-signed'],
          countType: 'imageCountMoreThan',
          countNumber: 5,
        }),
        rule(2, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 }),
        rule(3, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 2 }),
      ],
      false,
    ],
  ])('prints a config that validate accepts, from %s', async (_, rules, wrap) => {
    const path = await policyFile(rules, wrap);

    const { imported, validated } = await importAndValidate([
      'import',
      'ecr-lifecycle',
      path,
      '--repository',
      'app/web',
    ]);

    expect(imported.code).toBe(0);
    expect(validated).toMatchObject({ code: 0, stderr: '' });
  });

  it('keeps the 3 newest pr builds, main builds up to 14 days, and everything no rule selects', async () => {
    const path = await policyFile([PR_COUNT, MAIN_AGE]);
    const { stdout } = await run([
      'import',
      'ecr-lifecycle',
      path,
      '--endpoint',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ]);
    const config = parseConfigText(stdout.replace('minAge: 1d', 'minAge: 0s'));
    const images = [
      ...[1, 2, 3, 4, 5].map((n) => image({ tags: [`pr-${n}`], pushedAt: daysAgo(n) })),
      ...[5, 20].map((age) => image({ tags: [`main-${age}`], pushedAt: daysAgo(age) })),
      image({ tags: ['nightly'], pushedAt: daysAgo(300) }),
    ];

    const result = plan(inventory(images), resolvePolicy(config, config.registries[0]!.repositories[0]!), NOW);

    expect(result.delete.flatMap((d) => d.tags).sort()).toEqual(['main-20', 'pr-4', 'pr-5']);
    expect(config.registries[0]).toMatchObject({ endpoint: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' });
  });

  it('marks what it cannot say exactly in a comment and on stderr, with the reason', async () => {
    const path = await policyFile([
      rule(1, {
        tagStatus: 'tagged',
        tagPatternList: ['prod*', '*-signed'],
        countType: 'imageCountMoreThan',
        countNumber: 5,
      }),
      rule(2, { tagStatus: 'tagged', tagPatternList: ['x*'], countType: 'sinceImageTransitioned', countNumber: 5 }),
      rule(3, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 2 }),
    ]);

    const result = await run(['import', 'ecr-lifecycle', path]);

    expect(result.stdout).toContain(
      '# NOT EXACT: rule 1: selects images that have a tag matching each of prod*, *-signed',
    );
    expect(result.stdout).toContain('# NOT EXACT: rule 2: countType sinceImageTransitioned has no regprune equivalent');
    expect(result.stdout).toContain('# NOT EXACT: rule 3 keeps the 2 most recent untagged images');
    expect(result.stdout).toContain('# placeholder: your registry host (--endpoint)');
    expect(result.stderr.split('\n').filter((line) => line.includes('not exact'))).toHaveLength(3);
  });

  it.each([
    ['not JSON', '{rules: oops', 'not JSON'],
    ['no rules', '{"rules": []}', 'no "rules" array'],
    [
      'a rule without countNumber',
      '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan"},' +
        '"action":{"type":"expire"}}]}',
      'rules[0].selection.countNumber is missing',
    ],
  ])('refuses a policy file with %s, with exit 2 and the expected shape', async (_, text, message) => {
    const path = join(dir, 'bad.json');
    await writeFile(path, text);

    const result = await run(['import', 'ecr-lifecycle', path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('expected a lifecycle policy like');
  });

  it('refuses an endpoint that is not an ECR host, naming the field', async () => {
    const path = await policyFile([PR_COUNT]);

    const result = await run(['import', 'ecr-lifecycle', path, '--endpoint', 'https://example.com']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('registries[0].endpoint: expected a registry host like');
  });
});

describe('import acr-purge', () => {
  it.each([
    "acr purge --filter 'app/.*:.*' --ago 30d --keep 5",
    'acr purge --registry myreg --filter "app/web:^pr-.*" --filter base:.* --ago 2d3h6m --untagged --dry-run',
    'az acr run --registry myreg --cmd "acr purge --filter \'app:.*\' --untagged-only --ago 1d" /dev/null',
    'purge --filter=app:.* --ago=7d --concurrency 80 --include-locked',
  ])('prints a config that validate accepts, from %s', async (line) => {
    const { imported, validated } = await importAndValidate(['import', 'acr-purge', line]);

    expect(imported.code).toBe(0);
    expect(validated).toMatchObject({ code: 0, stderr: '' });
  });

  it('plans as acr purge would: older than --ago, keep the --keep newest, other tags left alone', async () => {
    const { stdout } = await run(['import', 'acr-purge', "acr purge -r myreg --filter 'app:b.*' --ago 10d --keep 1"]);
    const config = parseConfigText(stdout.replace('minAge: 1d', 'minAge: 0s'));
    const images = [
      image({ tags: ['b1'], pushedAt: daysAgo(30) }),
      image({ tags: ['b2'], pushedAt: daysAgo(20) }),
      image({ tags: ['b3'], pushedAt: daysAgo(5) }),
      image({ tags: ['prod'], pushedAt: daysAgo(90) }),
    ];

    const result = plan(inventory(images), resolvePolicy(config, config.registries[0]!.repositories[0]!), NOW);

    expect(config.registries[0]).toMatchObject({ endpoint: 'https://myreg.azurecr.io' });
    expect(result.delete.flatMap((d) => d.tags).sort()).toEqual(['b1', 'b2']);
  });

  it('marks --include-locked and an out-of-range --concurrency as not exact', async () => {
    const result = await run([
      'import',
      'acr-purge',
      "acr purge --filter 'a:.*' --ago 1d --include-locked --concurrency 99",
    ]);

    expect(result.stdout).toContain('# NOT EXACT: --include-locked: regprune never deletes a locked image');
    expect(result.stdout).toContain('# NOT EXACT: --concurrency 99 is outside 1–64');
    expect(result.stderr).toContain('not exact: --include-locked');
  });

  it.each([
    ['acr purge --ago 1d', 'the command has no --filter'],
    ["acr purge --filter 'a:.*' --ago 1x", '--ago "1x"'],
    ["acr purge --filter 'a:.*' --frobnicate", '"--frobnicate" is not an acr purge flag'],
    ["acr purge --filter 'a:.*", "unclosed ' quote"],
    ["acr purge --filter 'a:(' --ago 1d", 'TAG_REGEX: invalid regex'],
  ])('refuses %j with exit 2, saying what is wrong', async (line, message) => {
    const result = await run(['import', 'acr-purge', line]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('splits a command line as a shell does', () => {
    expect(shellWords(`acr purge --filter 'a b:.*' "x\\"y" z\\ w ''`)).toEqual([
      'acr',
      'purge',
      '--filter',
      'a b:.*',
      'x"y',
      'z w',
      '',
    ]);
  });
});

describe('import usage', () => {
  it.each([
    [['import'], 'say what to import'],
    [['import', 'harbor', 'x'], 'unknown source "harbor"'],
    [['import', 'ecr-lifecycle'], 'give the lifecycle policy JSON file'],
    [['import', 'acr-purge', 'acr', 'purge'], 'give the acr purge command line, quoted as one argument (in quotes)'],
    [['import', 'acr-purge', 'x', '--repository', 'a'], '--repository is for ecr-lifecycle'],
    [['import', 'ecr-lifecycle', '/nonexistent/policy.json'], 'cannot read /nonexistent/policy.json'],
  ])('refuses %j with exit 2', async (argv, message) => {
    const result = await run(argv);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
