import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import { RegistryUnavailableError } from '../../lib/errors.js';
import type { Image } from '../../lib/model.js';
import type { Report } from '../../lib/report/types.js';
import { daysAgo, image, NOW } from '../support/builders.js';
import { FakeOciRegistry } from '../support/fake-oci.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { Capture } from '../support/capture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  written: Map<string, string>;
}

async function run(argv: string[], options: { provider?: MemoryProvider; tty?: boolean } = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture(options.tty ?? false);
  const written = new Map<string, string>();
  const io: CliIo = {
    stdout,
    stderr,
    clock: () => NOW,
    writeFile: async (path, text) => {
      written.set(path, typeof text === 'string' ? text : [...text].join(''));
    },
    // The run lock and history in this file's temp dir, never in the real ~/.cache.
    env: { ...process.env, REGPRUNE_STATE: join(dir, 'state') },
    ...(options.provider ? { providerFor: async () => options.provider! } : {}),
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text, written };
}

function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, REGPRUNE_STATE: join(dir, 'state') };
    execFile(TSX, ['lib/cli/main.ts', ...args], { cwd: ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Three builds: `latest` on the newest; keep 1 deletes the oldest. */
function history(): Image[] {
  return [
    image({ name: 'web-3', tags: ['latest', '3'], pushedAt: daysAgo(1) }),
    image({ name: 'web-2', tags: ['2'], pushedAt: daysAgo(2) }),
    image({ name: 'web-1', tags: ['1'], pushedAt: daysAgo(3) }),
  ];
}

let dir: string;
let requestsSeen = 0;
let server: Server;
let endpoint: string;

function configText(fields: { dryRun?: boolean; keep?: unknown; endpointUrl?: string } = {}): string {
  const lines = ['version: 1'];
  if (fields.dryRun !== undefined) lines.push(`dryRun: ${fields.dryRun}`);
  lines.push(
    'defaults:',
    `  keep: ${fields.keep === undefined ? 1 : JSON.stringify(fields.keep)}`,
    '  minAge: 0s',
    '  pinned: [latest]',
    'registries:',
    '  - name: local',
    '    provider: oci',
    `    endpoint: ${fields.endpointUrl ?? endpoint}`,
    '    repositories:',
    '      - match: "app/**"',
  );
  return lines.join('\n') + '\n';
}

async function configFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-cli-'));
  server = createServer((request, response) => {
    requestsSeen++;
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('regprune CLI (in process)', () => {
  it('exits 2 with a one-line reason on an unknown flag', async () => {
    const result = await run(['prune', '--config', 'x.yaml', '--frobnicate']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('regprune: prune: unknown option --frobnicate; see regprune prune --help\n');
    expect(result.stdout).toBe('');
  });

  it.each([
    [['nonsense'], 'unknown command "nonsense"'],
    [['plan'], '--config FILE is required'],
    [['prune', '--config'], 'is missing its value'],
    [['prune', '--config', 'c.yaml', '--dry-run', '--no-dry-run'], 'contradict'],
    [['prune', '--config', 'c.yaml', 'stray'], 'unexpected argument stray'],
    [['prune', '--config', 'c.yaml', '--format', 'html'], '--format is the format of the --report file'],
    [['validate', '--config', '/'], 'it is a directory'],
  ])('exits 2 on bad usage %j', async (argv, reason) => {
    const result = await run(argv);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(reason);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 on a bad config, naming the path, and calls no registry', async () => {
    const path = await configFile('bad.yaml', configText({ keep: -1 }));
    const before = requestsSeen;

    const result = await run(['prune', '--config', path, '--no-dry-run']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`regprune: ${path} is invalid: defaults.keep: expected a number ≥ 0\n`);
    expect(requestsSeen).toBe(before);
  });

  it('exits 2 on a --registry the config does not name, and calls no registry', async () => {
    const path = await configFile('ok-registry.yaml', configText());
    const provider = new MemoryProvider({ repositories: { 'app/web': history() } });

    const result = await run(['plan', '--config', path, '--registry', 'elsewhere'], { provider });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--registry elsewhere: no registry of that name');
    expect(provider.calls).toEqual([]);
  });

  it('validates a good config with exit 0', async () => {
    const path = await configFile('good.yaml', configText());

    const result = await run(['validate', '--config', path]);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`ok: ${path} (1 registry)\n`);
  });

  it('prints the config JSON Schema', async () => {
    const result = await run(['schema']);

    const schema = JSON.parse(result.stdout) as { properties?: Record<string, unknown> };
    expect(result.code).toBe(0);
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['version', 'registries']));
  });

  it.each([
    [['--help']],
    [['-h']],
    [[]],
    [['prune', '--help']],
    [['plan', '-h']],
    [['validate', '--help']],
    [['schema', '--help']],
  ])('prints help for %j', async (argv) => {
    const result = await run(argv);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage:|\nUsage:/);
  });

  it('prints the version', async () => {
    const result = await run(['--version']);

    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('prints only the report on stdout with --json', async () => {
    const path = await configFile('json.yaml', configText({ dryRun: false }));
    const provider = new MemoryProvider({ repositories: { 'app/web': history() } });

    const result = await run(['prune', '--config', path, '--json'], { provider, tty: true });

    const report = JSON.parse(result.stdout) as Report;
    expect(result.code).toBe(0);
    expect(report.version).toBe(1);
    expect(report.totals.deleted).toBe(1);
    expect(result.stderr).toContain('local/app/web: 3 images');
  });

  it('deletes nothing when the config leaves dryRun at its default', async () => {
    const path = await configFile('default-dry.yaml', configText());
    const provider = new MemoryProvider({ repositories: { 'app/web': history() } });

    const result = await run(['prune', '--config', path], { provider });

    expect(result.code).toBe(0);
    expect(provider.deletedDigests()).toEqual([]);
    expect(result.stdout).toContain('would delete 1');
    expect(result.stdout).toContain('garbage-collect');
  });

  it('lets --no-dry-run delete and --dry-run hold back, whatever the config says', async () => {
    const dryPath = await configFile('dry.yaml', configText({ dryRun: true }));
    const livePath = await configFile('live.yaml', configText({ dryRun: false }));
    const held = new MemoryProvider({ repositories: { 'app/web': history() } });
    const deleting = new MemoryProvider({ repositories: { 'app/web': history() } });

    await run(['prune', '--config', livePath, '--dry-run'], { provider: held });
    await run(['prune', '--config', dryPath, '--no-dry-run'], { provider: deleting });

    expect(held.deletedDigests()).toEqual([]);
    expect(deleting.deletedDigests()).toHaveLength(1);
  });

  it('plan never deletes, even when the config is not dry, and lists each decision', async () => {
    const path = await configFile('plan.yaml', configText({ dryRun: false }));
    const provider = new MemoryProvider({ repositories: { 'app/web': history() } });

    const result = await run(['plan', '--config', path], { provider });

    expect(provider.deletedDigests()).toEqual([]);
    expect(result.stdout).toMatch(/sha256:\S+ {2}3, latest +keep {2} {2}pinned: latest\n/);
    expect(result.stdout).toMatch(/sha256:\S+ {2}1 +delete {2}rank 2 > keep 1\n/);
  });

  it('writes the JSON report with --report', async () => {
    const path = await configFile('report.yaml', configText({ dryRun: false }));
    const provider = new MemoryProvider({ repositories: { 'app/web': history() } });

    const result = await run(['prune', '--config', path, '--report', 'out.json'], { provider });

    const report = JSON.parse(result.written.get('out.json') ?? '') as Report;
    expect(report.registries[0]!.repositories[0]!.deleted).toHaveLength(1);
    expect(result.stdout).toContain('deleted 1');
  });

  it('narrows to --repository', async () => {
    const path = await configFile('narrow.yaml', configText({ dryRun: false }));
    const provider = new MemoryProvider({ repositories: { 'app/web': history(), 'app/api': history() } });

    await run(['prune', '--config', path, '--repository', 'app/api'], { provider });

    expect(provider.digests('app/web')).toHaveLength(3);
    expect(provider.digests('app/api')).toHaveLength(2);
  });

  it('exits 1 and says why when the registry is unreachable', async () => {
    const path = await configFile('down.yaml', configText({ dryRun: false }));
    const provider = new MemoryProvider();
    provider.throwing.set('listRepositories', new RegistryUnavailableError('cannot connect (ECONNREFUSED)'));

    const result = await run(['prune', '--config', path], { provider });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot connect (ECONNREFUSED)');
  });

  it('exits 1 when a deletion fails', async () => {
    const path = await configFile('fail.yaml', configText({ dryRun: false }));
    const images = history();
    const provider = new MemoryProvider({ repositories: { 'app/web': images } });
    provider.deleteFailures.set(images[2]!.digest, 'DENIED');

    const result = await run(['prune', '--config', path, '--json'], { provider });

    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as Report).totals.failed).toBe(1);
  });

  it('keeps stderr quiet when it is not a terminal and the run went well', async () => {
    const path = await configFile('quiet.yaml', configText({ dryRun: false }));
    const provider = new MemoryProvider({ repositories: { 'app/web': history() } });

    const result = await run(['prune', '--config', path], { provider });

    expect(result.stderr).toBe('');
  });
});

describe('regprune CLI (spawned)', () => {
  it('exits 2 on a bad flag with one line on stderr and no stack trace', async () => {
    const result = await spawnCli(['prune', '--bogus']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('regprune: prune: unknown option --bogus; see regprune prune --help\n');
  });

  it('exits 2 on a bad config without any request reaching the registry', async () => {
    const path = await configFile('spawn-bad.yaml', configText({ keep: 'many' }));
    const before = requestsSeen;

    const result = await spawnCli(['plan', '--config', path]);

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('defaults.keep: expected a number ≥ 0');
    expect(requestsSeen).toBe(before);
  });

  it('exits 2 naming a credential variable that is not set, before calling any registry', async () => {
    const text = configText().replace(
      '    repositories:',
      '    auth: { usernameEnv: REGPRUNE_TEST_UNSET_USER, passwordEnv: REGPRUNE_TEST_UNSET_PASSWORD }\n    ' +
        'repositories:',
    );
    const path = await configFile('spawn-unset-credentials.yaml', text);
    const before = requestsSeen;

    const result = await spawnCli(['plan', '--config', path]);

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('REGPRUNE_TEST_UNSET_USER');
    expect(requestsSeen).toBe(before);
  });

  it('exits 2 on an endpoint with user:password@ in it, and never prints the password', async () => {
    const path = await configFile(
      'spawn-userinfo.yaml',
      configText({ endpointUrl: 'http://me:HUNTER2SECRET@127.0.0.1:9' }),
    );

    const result = await spawnCli(['plan', '--config', path, '--json']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('registries[0].endpoint: expected a URL without user:password@');
    expect(result.stdout + result.stderr).not.toContain('HUNTER2SECRET');
  });

  it('prunes an OCI registry end to end and prints only the report with --json', async () => {
    const registry = await FakeOciRegistry.start();
    try {
      registry.pushImage('app/web', { tags: ['1'], created: daysAgo(3).toISOString() });
      registry.pushImage('app/web', { tags: ['2'], created: daysAgo(2).toISOString() });
      const latest = registry.pushImage('app/web', { tags: ['latest', '3'], created: daysAgo(1).toISOString() });
      const path = await configFile('spawn-oci.yaml', configText({ dryRun: false, endpointUrl: registry.url }));

      const result = await spawnCli(['prune', '--config', path, '--json']);

      const report = JSON.parse(result.stdout) as Report;
      expect(result.code).toBe(0);
      expect(report.totals).toMatchObject({ imagesBefore: 3, kept: 2, deleted: 1, failed: 0 });
      expect([...registry.tagsOf('app/web').keys()].sort()).toEqual(['2', '3', 'latest']);
      expect(registry.hasManifest('app/web', latest.digest)).toBe(true);
    } finally {
      await registry.close();
    }
  });
});
