import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUILTIN_RETENTION,
  compilePattern,
  configJsonSchema,
  loadConfigFile,
  loadConfigFromSetting,
  parseConfigText,
  parseDuration,
  resolvePolicy,
  ruleFor,
  type Config,
} from '../../lib/config/index.js';
import { ConfigError } from '../../lib/errors.js';

const DAY_MS = 86_400_000;

/** The example of DESIGN.md, verbatim. */
const DESIGN_EXAMPLE = `
version: 1
dryRun: true                 # default true: a new deployment first reports what it would do
defaults:
  keep: 10
  pinned: [latest, "/^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$/", "release-*"]   # glob, or /regex/
  minAge: 3d                 # 30m, 12h, 3d, 2w, or ISO 8601 (P3D)
  untagged: keep             # keep | delete
  order: pushed              # pushed | semver
registries:
  - name: prod
    provider: acr            # acr | ecr | oci
    endpoint: https://myreg.azurecr.io
    repositories:            # first match wins
      - match: "team-a/**"
        keep: 5
      - match: "base/*"
        keep: 20
        pinned: ["22.05"]
`;

const DESIGN_EXAMPLE_JSON = JSON.stringify({
  version: 1,
  dryRun: true,
  defaults: {
    keep: 10,
    pinned: ['latest', '/^v\\d+\\.\\d+\\.\\d+$/', 'release-*'],
    minAge: '3d',
    untagged: 'keep',
    order: 'pushed',
  },
  registries: [
    {
      name: 'prod',
      provider: 'acr',
      endpoint: 'https://myreg.azurecr.io',
      repositories: [
        { match: 'team-a/**', keep: 5 },
        { match: 'base/*', keep: 20, pinned: ['22.05'] },
      ],
    },
  ],
});

/** A valid one-registry config with `rule` (indented YAML lines) as its only repository rule's extra fields. */
const withRule = (rule: string): string =>
  `version: 1\nregistries:\n  - name: local\n    provider: oci\n    endpoint: http://127.0.0.1:5000\n    ` +
  `repositories:\n      - match: "**"\n${rule}`;

const withRegistry = (registry: string): string => `version: 1\nregistries:\n  - ${registry}\n`;

function parseError(text: string): ConfigError {
  try {
    parseConfigText(text, 'regprune.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

function registryOf(config: Config) {
  return config.registries[0]!;
}

describe('good config files', () => {
  it('parses the example of DESIGN.md', () => {
    const config = parseConfigText(DESIGN_EXAMPLE, 'regprune.yaml');

    expect(config).toEqual({
      version: 1,
      dryRun: true,
      defaults: {
        keep: 10,
        pinned: ['latest', '/^v\\d+\\.\\d+\\.\\d+$/', 'release-*'],
        minAge: '3d',
        untagged: 'keep',
        order: 'pushed',
      },
      registries: [
        {
          name: 'prod',
          provider: 'acr',
          endpoint: 'https://myreg.azurecr.io',
          repositories: [
            { match: 'team-a/**', keep: 5 },
            { match: 'base/*', keep: 20, pinned: ['22.05'] },
          ],
        },
      ],
    });
  });

  it('reads the same config from JSON as from YAML', () => {
    const fromJson = parseConfigText(DESIGN_EXAMPLE_JSON, 'regprune.json');

    expect(fromJson).toEqual(parseConfigText(DESIGN_EXAMPLE));
  });

  it('defaults dryRun to true and defaults to empty', () => {
    const config = parseConfigText(withRule(''));

    expect(config.dryRun).toBe(true);
    expect(config.defaults).toEqual({});
  });

  it.each([
    [
      'an OCI registry with basic auth from the environment',
      'name: a\n    provider: oci\n    endpoint: https://registry.example.com\n    auth: { usernameEnv: REG_USER, ' +
        'passwordEnv: REG_PASS }\n    repositories: []',
    ],
    [
      'an OCI registry with a bearer token from the environment',
      'name: a\n    provider: oci\n    endpoint: http://127.0.0.1:5000\n    auth: { tokenEnv: GHCR_TOKEN }\n    ' +
        'repositories: []',
    ],
    [
      'an ECR registry with an API endpoint override',
      'name: a\n    provider: ecr\n    endpoint: 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n    apiEndpoint: ' +
        'http://127.0.0.1:4566\n    repositories: []',
    ],
    [
      'an ECR registry in China',
      'name: a\n    provider: ecr\n    endpoint: 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn\n    repositories: ' +
        '[]',
    ],
    [
      'an ACR registry in a sovereign cloud',
      'name: a\n    provider: acr\n    endpoint: https://myreg.azurecr.us\n    audience: ' +
        'https://management.usgovcloudapi.net\n    concurrency: 32\n    repositories: []',
    ],
  ])('accepts %s', (_what, registry) => {
    const config = parseConfigText(withRegistry(registry));

    expect(config.registries).toHaveLength(1);
  });
});

describe('bad config files', () => {
  it.each([
    [
      'an unknown key in a rule',
      withRule('        keeep: 3\n'),
      'registries[0].repositories[0]: unknown key "keeep"; remove it or check the spelling',
    ],
    [
      'an unknown top-level key',
      withRule('').replace('version: 1\n', 'version: 1\nfoo: 2\n'),
      'unknown key "foo"; remove it or check the spelling',
    ],
    [
      'a glob with brackets',
      withRule('        pinned: ["[abc]"]\n'),
      'registries[0].repositories[0].pinned[0]: glob "[abc]" uses [ ] or { }, which are not supported; use * ? ** or ' +
        'a /regex/',
    ],
    [
      'a glob with braces',
      withRule('        pinned: ["{a,b}"]\n'),
      'registries[0].repositories[0].pinned[0]: glob "{a,b}" uses [ ] or { }, which are not supported; use * ? ** or ' +
        'a /regex/',
    ],
    [
      'a bad regex',
      withRule('        pinned: ["/(/"]\n'),
      'registries[0].repositories[0].pinned[0]: invalid regex /(/: Invalid regular expression: /(/: Unterminated group',
    ],
    [
      'a regex with flags',
      withRule('        pinned: ["/^latest$/i"]\n'),
      'registries[0].repositories[0].pinned[0]: "/^latest$/i" is neither a glob nor a /regex/ (regex flags are not ' +
        'supported); write /regex/ without flags, or a glob',
    ],
    ['a negative keep', withRule('        keep: -1\n'), 'registries[0].repositories[0].keep: expected a number ≥ 0'],
    [
      'a fractional keep',
      withRule('        keep: 1.5\n'),
      'registries[0].repositories[0].keep: expected a whole number ≥ 0',
    ],
    [
      'a keep written as a string',
      withRule('        keep: "5"\n'),
      'registries[0].repositories[0].keep: expected a number ≥ 0',
    ],
    ['an infinite keep', withRule('        keep: .inf\n'), 'registries[0].repositories[0].keep: expected a number ≥ 0'],
    [
      'an unknown provider',
      withRegistry('{ name: a, provider: gcr, endpoint: "https://gcr.io", repositories: [] }'),
      'registries[0].provider: expected provider "acr", "ecr" or "oci"',
    ],
    [
      'a bad duration',
      withRule('        minAge: 3days\n'),
      'registries[0].repositories[0].minAge: expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "3days"',
    ],
    [
      'a duration written as a number',
      withRule('        minAge: 3\n'),
      'registries[0].repositories[0].minAge: expected a string (text), got the number 3; ' +
        'write it as text, in quotes where YAML would read a number or true/false ("3d", "10")',
    ],
    [
      'a duration that would overflow',
      withRule('        minAge: 99999999999d\n'),
      'registries[0].repositories[0].minAge: duration "99999999999d" is longer than 100 years; write a shorter one',
    ],
    [
      'an ISO duration that would overflow',
      withRule('        olderThan: P99999999999D\n'),
      'registries[0].repositories[0].olderThan: duration "P99999999999D" is longer than 100 years; write a shorter one',
    ],
    [
      'an unknown untagged mode',
      withRule('        untagged: remove\n'),
      'registries[0].repositories[0].untagged: expected "keep" or "delete"',
    ],
    [
      'an unknown order',
      withRule('        order: newest\n'),
      'registries[0].repositories[0].order: expected "pushed" or "semver"',
    ],
    [
      'a rule without match',
      withRule('      - keep: 3\n'),
      'registries[0].repositories[1].match: is required (expected string, received undefined)',
    ],
    ['a missing version', withRule('').replace('version: 1\n', ''), 'version: expected version: 1'],
    ['version 2', withRule('').replace('version: 1', 'version: 2'), 'version: expected version: 1'],
    ['no registries', 'version: 1\nregistries: []\n', 'registries: expected at least one registry'],
    ['a missing registries list', 'version: 1\n', 'registries: is required (expected array, received undefined)'],
    [
      'a duplicate registry name',
      'version: 1\nregistries:\n  - { name: a, provider: oci, endpoint: "http://x:5000", repositories: [] }\n  - { ' +
        'name: a, provider: oci, endpoint: "http://y:5000", repositories: [] }\n',
      'registries[1].name: duplicate registry name "a"',
    ],
    [
      'a registry name with a space',
      withRegistry('{ name: "my reg", provider: oci, endpoint: "http://x:5000", repositories: [] }'),
      'registries[0].name: expected letters, digits, . _ or -',
    ],
    [
      'an ECR endpoint with https://',
      withRegistry(
        '{ name: a, provider: ecr, endpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", repositories: ' +
          '[] }',
      ),
      'registries[0].endpoint: expected a registry host like 123456789012.dkr.ecr.eu-west-1.amazonaws.com (no ' +
        'https://)',
    ],
    [
      'an ACR endpoint over http',
      withRegistry('{ name: a, provider: acr, endpoint: "http://myreg.azurecr.io", repositories: [] }'),
      'registries[0].endpoint: expected an https:// URL like https://myreg.azurecr.io',
    ],
    [
      'a secret where an environment variable name belongs',
      withRegistry(
        '{ name: a, provider: oci, endpoint: "http://x:5000", auth: { tokenEnv: "ghp_abc-123" }, repositories: [] }',
      ),
      'registries[0].auth.tokenEnv: expected the name of an environment variable, not its value',
    ],
    [
      'a YAML scalar instead of a mapping',
      'hello world',
      '(top level): expected a mapping (key: value lines), got the text "hello world"; write indented key: value lines',
    ],
  ])('rejects %s, naming the path', (_what, text, message) => {
    const error = parseError(text);

    expect(error.issues).toContain(message);
    expect(error.message).toContain(`regprune.yaml is invalid: `);
    expect(error.message).toContain(message);
    expect(error.code).toBe('CONFIG_INVALID');
  });

  it.each([
    ['an empty file', '', 'regprune.yaml is empty; see `regprune schema` for the format'],
    ['a file of comments only', '# nothing yet\n', 'regprune.yaml is empty; see `regprune schema` for the format'],
    [
      'text that is not YAML',
      'version: 1\nregistries: [\n',
      'regprune.yaml is not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and ' +
        'end with a ] at line 3, column 1',
    ],
    [
      'a duplicate key',
      'version: 1\nversion: 1\nregistries: []\n',
      'regprune.yaml is not valid YAML or JSON: Map keys must be unique at line 2, column 1 (`version: 1`)',
    ],
    [
      'broken JSON',
      '{"version": 1, "registries": [}',
      'regprune.yaml is not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and ' +
        'end with a ] at line 1, column 31 (`{"version": 1, "registries": [}`)',
    ],
  ])('rejects %s with a one-line reason', (_what, text, message) => {
    const error = parseError(text);

    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
  });

  it('reports every problem of a file at once', () => {
    const error = parseError(withRule('        keep: -1\n        minAge: soon\n'));

    expect(error.issues).toEqual([
      'registries[0].repositories[0].keep: expected a number ≥ 0',
      'registries[0].repositories[0].minAge: expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "soon"',
    ]);
  });
});

describe('loading config', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regprune-config-'));
    await writeFile(join(dir, 'regprune.yaml'), DESIGN_EXAMPLE);
    await writeFile(join(dir, 'regprune.json'), DESIGN_EXAMPLE_JSON);
    await writeFile(join(dir, 'bad.yaml'), withRule('        keep: -1\n'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['regprune.yaml', 'regprune.json'])('loads %s from a file', async (name) => {
    const config = await loadConfigFile(join(dir, name));

    expect(config).toEqual(parseConfigText(DESIGN_EXAMPLE));
  });

  it('names the file in a validation error', async () => {
    const path = join(dir, 'bad.yaml');

    await expect(loadConfigFile(path)).rejects.toThrow(
      `${path} is invalid: registries[0].repositories[0].keep: expected a number ≥ 0`,
    );
  });

  it('says the file is missing', async () => {
    const path = join(dir, 'nope.yaml');

    const loading = loadConfigFile(path);

    await expect(loading).rejects.toBeInstanceOf(ConfigError);
    await expect(loading).rejects.toThrow(`cannot read config file ${path}: no such file`);
  });

  it.each([
    ['inline YAML', () => DESIGN_EXAMPLE],
    ['inline JSON', () => DESIGN_EXAMPLE_JSON],
    ['a path to a file', () => join(dir, 'regprune.yaml')],
    ['a path with surrounding blanks', () => `  ${join(dir, 'regprune.json')}\n`],
  ])('loads REGPRUNE_CONFIG given as %s', async (_what, setting) => {
    const config = await loadConfigFromSetting(setting());

    expect(config).toEqual(parseConfigText(DESIGN_EXAMPLE));
  });

  it('falls back to a bundled file when REGPRUNE_CONFIG is not set', async () => {
    const config = await loadConfigFromSetting(undefined, join(dir, 'regprune.json'));

    expect(registryOf(config).name).toBe('prod');
  });

  it('says how to set REGPRUNE_CONFIG when it is empty and there is no fallback', async () => {
    await expect(loadConfigFromSetting('  ')).rejects.toThrow(
      'REGPRUNE_CONFIG is not set: set it to the config YAML/JSON or to the path of a config file',
    );
  });

  it('names REGPRUNE_CONFIG in errors about inline config', async () => {
    await expect(loadConfigFromSetting('version: 1\nregistries: []\n')).rejects.toThrow(
      'REGPRUNE_CONFIG is invalid: registries: expected at least one registry',
    );
  });
});

describe('rules and policies', () => {
  const config = parseConfigText(DESIGN_EXAMPLE);
  const registry = registryOf(config);

  it.each([
    ['team-a/web', 'team-a/**'],
    ['team-a/tools/lint', 'team-a/**'],
    ['base/node', 'base/*'],
    ['base/node/slim', null],
    ['team-b/web', null],
    ['team-a', null],
  ])('matches repository %s to rule %s (first match wins; no match means untouched)', (repository, match) => {
    const rule = ruleFor(registry, repository);

    expect(rule?.match ?? null).toBe(match);
  });

  it('takes the first matching rule even when a later one matches too', () => {
    const overlapping = parseConfigText(withRule('        keep: 1\n      - match: "app/*"\n        keep: 2\n'));

    expect(ruleFor(registryOf(overlapping), 'app/web')?.keep).toBe(1);
  });

  it("resolves a rule over defaults, adding the rule's pinned to the defaults'", () => {
    const policy = resolvePolicy(config, ruleFor(registry, 'base/node')!);

    expect({ ...policy, pinned: policy.pinned.map((p) => p.source) }).toEqual({
      keep: 20,
      pinned: ['latest', '/^v\\d+\\.\\d+\\.\\d+$/', 'release-*', '22.05'],
      minAgeMs: 3 * DAY_MS,
      untagged: 'keep',
      order: 'pushed',
      keepPulledWithinMs: null,
      olderThanMs: null,
    });
  });

  it('uses the cautious built-in defaults where neither the rule nor defaults say', () => {
    const bare = parseConfigText(withRule(''));

    const policy = resolvePolicy(bare, registryOf(bare).repositories[0]!);

    expect({ ...policy, pinned: policy.pinned.map((p) => p.source) }).toEqual({
      keep: BUILTIN_RETENTION.keep,
      pinned: ['latest'],
      minAgeMs: DAY_MS,
      untagged: 'keep',
      order: 'pushed',
      keepPulledWithinMs: null,
      olderThanMs: null,
    });
  });

  it('lets a rule override keepPulledWithin and olderThan from defaults, and lists a pinned pattern once', () => {
    const text = `version: 1
defaults: { keepPulledWithin: 30d, olderThan: 2w, pinned: [latest] }
registries:
  - name: r
    provider: oci
    endpoint: http://127.0.0.1:5000
    repositories:
      - { match: "**", olderThan: P1D, pinned: [latest, stable], untagged: delete, order: semver }
`;
    const parsed = parseConfigText(text);

    const policy = resolvePolicy(parsed, registryOf(parsed).repositories[0]!);

    expect(policy.keepPulledWithinMs).toBe(30 * DAY_MS);
    expect(policy.olderThanMs).toBe(DAY_MS);
    expect(policy.pinned.map((p) => p.source)).toEqual(['latest', 'stable']);
    expect(policy.untagged).toBe('delete');
    expect(policy.order).toBe('semver');
  });
});

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['12h', 12 * 3_600_000],
    ['3d', 3 * DAY_MS],
    ['2w', 14 * DAY_MS],
    ['2d3h', 2 * DAY_MS + 3 * 3_600_000],
    ['45s', 45_000],
    ['0d', 0],
    [' 3d ', 3 * DAY_MS],
    ['P3D', 3 * DAY_MS],
    ['PT12H', 12 * 3_600_000],
    ['P1W', 7 * DAY_MS],
    ['P1DT2H', DAY_MS + 2 * 3_600_000],
    ['PT30M', 30 * 60_000],
    ['36500d', 36_500 * DAY_MS],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([
    ['', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got ""'],
    ['3', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "3"'],
    ['1.5d', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "1.5d"'],
    ['-3d', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "-3d"'],
    ['3y', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "3y"'],
    ['P', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "P"'],
    ['PT', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "PT"'],
    ['P1DT', 'expected a duration like 30m, 12h, 3d, 2w or ISO 8601 P3D, got "P1DT"'],
    ['36501d', 'duration "36501d" is longer than 100 years; write a shorter one'],
    ['99999999999d', 'duration "99999999999d" is longer than 100 years; write a shorter one'],
    ['99999999999999999999999w', 'duration "99999999999999999999999w" is longer than 100 years; write a shorter one'],
    ['P99999999999D', 'duration "P99999999999D" is longer than 100 years; write a shorter one'],
  ])('rejects %j', (text, error) => {
    expect(parseDuration(text)).toEqual({ ok: false, error });
  });
});

describe('compilePattern', () => {
  const matches = (source: string, name: string): boolean => {
    const compiled = compilePattern(source);
    if (!compiled.ok) throw new Error(compiled.error);
    return compiled.pattern.test(name);
  };

  it.each([
    ['release-*', 'release-1', true],
    ['release-*', 'release-', true],
    ['release-*', 'prerelease-1', false],
    ['latest', 'latest', true],
    ['latest', 'latest-1', false],
    ['v1.2', 'v1x2', false],
    ['b?', 'b1', true],
    ['b?', 'b12', false],
    ['team-a/*', 'team-a/web', true],
    ['team-a/*', 'team-a/tools/lint', false],
    ['team-a/**', 'team-a/tools/lint', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['**', 'anything/at/all', true],
    ['/^v\\d+$/', 'v12', true],
    ['/^v\\d+$/', 'v12-rc', false],
    ['/rc/', 'v1-rc.1', true],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
  ])('%s matching %s is %s', (source, name, expected) => {
    expect(matches(source, name)).toBe(expected);
  });

  it.each([
    ['', 'expected a glob or /regex/, got an empty string'],
    ['[abc]', 'glob "[abc]" uses [ ] or { }, which are not supported; use * ? ** or a /regex/'],
    ['/(/', 'invalid regex /(/: Invalid regular expression: /(/: Unterminated group'],
    [
      '/^latest$/i',
      '"/^latest$/i" is neither a glob nor a /regex/ (regex flags are not supported); write /regex/ without flags, ' +
        'or a glob',
    ],
    [
      '/latest',
      '"/latest" is neither a glob nor a /regex/ (regex flags are not supported); write /regex/ without flags, or a ' +
        'glob',
    ],
  ])('rejects %j', (source, error) => {
    expect(compilePattern(source)).toEqual({ ok: false, error });
  });
});

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as {
    $id: string;
    title: string;
    required: string[];
    additionalProperties: boolean;
    properties: Record<
      string,
      { default?: unknown; properties?: Record<string, { minimum?: number; description?: string }> }
    >;
  };

  it('is generated from the zod schema, with an id and title', () => {
    expect(schema.$id).toBe('https://regprune.dev/schema/config-v1.json');
    expect(schema.title).toBe('regprune config');
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('requires version and registries and allows no unknown keys', () => {
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'registries']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('describes the retention fields with their bounds and the dry-run default', () => {
    const defaults = schema.properties['defaults']!.properties!;

    expect(Object.keys(defaults).sort()).toEqual([
      'archived',
      'keep',
      'keepPulledWithin',
      'minAge',
      'olderThan',
      'order',
      'pinned',
      'untagged',
    ]);
    expect(defaults['keep']!.minimum).toBe(0);
    expect(defaults['minAge']!.description).toMatch(/Grace period/);
    expect(schema.properties['dryRun']!.default).toBe(true);
  });

  it('names every provider', () => {
    const text = JSON.stringify(schema);

    for (const provider of ['acr', 'ecr', 'oci']) expect(text).toContain(`"const":"${provider}"`);
  });
});
