/** The local state store beyond the shared contract: where it lives, and CAS across processes. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInvocation } from '../../lib/cli/args.js';
import { LocalStateStore, resolveStateDir } from '../../lib/state/local.js';

const WORKER = fileURLToPath(new URL('../support/local-cas-worker.ts', import.meta.url));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'regprune-state-local-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('state directory', () => {
  it.each([
    ['--state wins over everything', { REGPRUNE_STATE: '/env', XDG_CACHE_HOME: '/xdg' }, '/flag', '/flag'],
    [
      'REGPRUNE_STATE wins over the cache directory',
      { REGPRUNE_STATE: '/env', XDG_CACHE_HOME: '/xdg' },
      undefined,
      '/env',
    ],
    ['XDG_CACHE_HOME/regprune by default', { XDG_CACHE_HOME: '/xdg' }, undefined, '/xdg/regprune'],
    ['~/.cache/regprune without XDG_CACHE_HOME', {}, undefined, '/home/me/.cache/regprune'],
    ['blank settings count as unset', { REGPRUNE_STATE: ' ', XDG_CACHE_HOME: '' }, '', '/home/me/.cache/regprune'],
  ])('resolves %s', (_, env, flag, expected) => {
    const directory = resolveStateDir(env, flag, '/home/me');

    expect(directory).toBe(expected);
  });

  it('takes --state DIR on prune and report', () => {
    const prune = parseInvocation(['prune', '--config', 'c.yaml', '--state', '/tmp/s']);
    const report = parseInvocation(['report', '--config', 'c.yaml', '--state', '/tmp/r']);

    expect(prune).toMatchObject({ kind: 'run', statePath: '/tmp/s' });
    expect(report).toMatchObject({ kind: 'run', statePath: '/tmp/r' });
  });
});

describe('local state store', () => {
  it('loses no update when two processes race read-modify-write on one record', async () => {
    const directory = join(root, 'processes');
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', WORKER, directory, '25'], { timeout: 60_000 });

    await Promise.all([run(), run()]);
    const counter = await new LocalStateStore(directory).read('race/counter');

    expect(new TextDecoder().decode(counter?.value)).toBe('50');
  }, 90_000);

  it('recovers a key whose CAS lock file was left behind by a killed process', async () => {
    const store = new LocalStateStore(join(root, 'stale'), { staleLockMs: 1_000 });
    await store.create('locks/r', 'v1');
    const lockFile = join(root, 'stale', 'locks', 'r.rec.lock');
    await writeFile(lockFile, '999999\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockFile, old, old);

    const current = await store.read('locks/r');
    const replaced = await store.replace('locks/r', 'v2', current?.version ?? '');

    expect(replaced.ok).toBe(true);
  });

  it('never lists its temp or lock files as records', async () => {
    const store = new LocalStateStore(join(root, 'listing'));
    await store.create('history/a.json', '{}');
    await writeFile(join(root, 'listing', 'history', 'b.json.rec.lock'), '1\n');
    await writeFile(join(root, 'listing', 'history', 'c.json.rec.0000.tmp'), 'x');

    const keys = await store.list('history/');

    expect(keys).toEqual(['history/a.json']);
  });
});
