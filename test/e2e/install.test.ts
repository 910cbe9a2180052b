/**
 * How regprune is started: through `npm run regprune` from another directory, and as the bin of
 * the package `npm pack` makes (issue 14, item 2). Real processes: behaviour depends on the start.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerDirectory } from '../../lib/cli/caller-directory.js';
import { REPO_ROOT } from '../support/cli-process.js';

const run = promisify(execFile);
let dir: string;

const CONFIG = [
  'version: 1',
  'registries:',
  '  - name: local',
  '    provider: oci',
  '    endpoint: http://127.0.0.1:9',
  '    repositories:',
  '      - match: "*"',
  '        keep: 3',
  '',
].join('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-install-'));
  await writeFile(join(dir, 'my.yaml'), CONFIG);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The environment without npm's variables of the run that started the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key === 'INIT_CWD') delete env[key];
  return env;
}

describe('the directory paths resolve against', () => {
  it("is the caller's under `npm run regprune` from another directory", async () => {
    const { stdout } = await run(
      'npm',
      ['run', '--prefix', REPO_ROOT, '-s', 'regprune', '--', 'validate', '-c', 'my.yaml'],
      {
        cwd: dir,
        env: cleanEnv(),
      },
    );

    expect(stdout).toBe('ok: my.yaml (1 registry)\n');
  }, 120_000);

  it.each([
    [
      'our own npm script',
      { npm_lifecycle_event: 'regprune', npm_package_name: 'regprune', INIT_CWD: '/home/me' },
      '/home/me',
    ],
    [
      'a script of another package',
      { npm_lifecycle_event: 'prune', npm_package_name: 'infra', INIT_CWD: '/home/me' },
      '/pkg',
    ],
    ['no npm at all', {}, '/pkg'],
  ])('follows INIT_CWD only for %s', (_name, env, expected) => {
    expect(callerDirectory(env, '/pkg')).toBe(expected);
  });
});

describe('the packed package', () => {
  it('ships a bin that runs: npm pack, unpack, regprune --version', async () => {
    // `npm pack` runs `prepare` (the build), as it does on publish.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, REPO_ROOT], {
      cwd: dir,
      env: cleanEnv(),
      maxBuffer: 32 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
    const installed = join(dir, 'node_modules', 'regprune');
    await run('mkdir', ['-p', installed]);
    await run('tar', ['-xzf', join(dir, packed!.filename), '-C', installed, '--strip-components=1']);
    // Its dependencies from this checkout: the registry is not reached from a test.
    await symlink(join(REPO_ROOT, 'node_modules'), join(installed, 'node_modules'));
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      bin: { regprune: string };
    };

    const version = await run(process.execPath, [join(installed, manifest.bin.regprune), '--version'], {
      cwd: dir,
      env: cleanEnv(),
    });
    const help = await run(process.execPath, [join(installed, manifest.bin.regprune), 'validate', '-c', 'my.yaml'], {
      cwd: dir,
      env: cleanEnv(),
    });

    expect(version.stdout).toBe('0.1.0\n');
    expect(help.stdout).toBe('ok: my.yaml (1 registry)\n');
    expect((await readFile(join(installed, manifest.bin.regprune), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(
      true,
    );
  }, 600_000);
});
