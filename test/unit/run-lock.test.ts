/** The run lock's key, its safety verdict when renewals fail, and which state store a host gets. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryConfig } from '../../lib/config/schema.js';
import { parseConfig } from '../../lib/config/load.js';
import { StateUnavailableError, UsageError } from '../../lib/errors.js';
import { lockKeyFor } from '../../lib/lock/key.js';
import { leaseKeyOf, StateLeaseLock } from '../../lib/lock/state-lease.js';
import { cliStateStore, stateStoreFromEnv } from '../../lib/state/env.js';
import { LocalStateStore } from '../../lib/state/local.js';
import type { StateStore } from '../../lib/state/store.js';

const HOLDER = fileURLToPath(new URL('../support/lease-holder-worker.ts', import.meta.url));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'regprune-run-lock-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function registry(fields: Record<string, unknown>): RegistryConfig {
  const config = parseConfig({ version: 1, registries: [{ name: 'any', repositories: [], ...fields }] });
  return config.registries[0] as RegistryConfig;
}

function manualClock() {
  let elapsed = 0;
  return {
    wallMs: () => Date.parse('2026-11-27T12:00:00Z') + elapsed,
    monotonicMs: () => elapsed,
    advance: (ms: number) => {
      elapsed += ms;
    },
  };
}

/** A store whose writes fail while `failing` is set, as during a storage outage. */
function flaky(inner: StateStore) {
  const control = { failing: false };
  const fail = () => Promise.reject(new StateUnavailableError('storage unreachable'));
  const store: StateStore = {
    location: inner.location,
    read: (key) => inner.read(key),
    create: (key, value) => (control.failing ? fail() : inner.create(key, value)),
    replace: (key, value, version) => (control.failing ? fail() : inner.replace(key, value, version)),
    delete: (key, version) => inner.delete(key, version),
    list: (prefix) => inner.list(prefix),
  };
  return { store, control };
}

describe('lock key', () => {
  it.each([
    [
      'an ACR endpoint, whatever its case and trailing slash',
      { provider: 'acr', endpoint: 'https://MyReg.azurecr.io/' },
      'myreg.azurecr.io',
    ],
    ['an OCI endpoint with its port', { provider: 'oci', endpoint: 'http://127.0.0.1:5000' }, '127.0.0.1:5000'],
    [
      'an OCI endpoint on the default port',
      { provider: 'oci', endpoint: 'https://registry.example.com:443/' },
      'registry.example.com',
    ],
    [
      'an ECR registry host',
      { provider: 'ecr', endpoint: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ],
  ])('is the normalized endpoint for %s', (_, fields, expected) => {
    const key = lockKeyFor(registry(fields));

    expect(key).toBe(expected);
  });

  it('is the same for two configs that name one registry differently, so they exclude each other', async () => {
    const store = new LocalStateStore(join(root, 'names'));
    const prod = registry({ name: 'prod', provider: 'oci', endpoint: 'https://Registry.Example.com/' });
    const legacy = registry({ name: 'legacy', provider: 'oci', endpoint: 'https://registry.example.com' });

    const held = await new StateLeaseLock({ store, renewMs: 0 }).acquire(lockKeyFor(prod));
    const other = await new StateLeaseLock({ store, renewMs: 0 }).acquire(lockKeyFor(legacy));
    await held?.release();

    expect(held).not.toBeNull();
    expect(other).toBeNull();
  });

  it('keeps the lease under locks/ as one key segment', () => {
    const key = leaseKeyOf('127.0.0.1:5000/v2');

    expect(key).toBe('locks/127.0.0.1%3A5000%2Fv2');
  });
});

describe('lease safety verdict', () => {
  it('stops vouching for the lease while renewals fail, and again once one succeeds', async () => {
    const { store, control } = flaky(new LocalStateStore(join(root, 'flaky')));
    const clock = manualClock();
    const handle = await new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('flaky.example.com');
    control.failing = true;

    const failedRenewal = await handle?.renew();
    const duringOutage = { held: handle?.heldFor(0), reason: handle?.lostReason() };
    control.failing = false;
    const recovered = await handle?.renew();
    const afterOutage = handle?.heldFor(0);
    await handle?.release();

    expect(failedRenewal).toBe(false);
    expect(duringOutage.held).toBe(false);
    expect(duringOutage.reason).toMatch(/last renewal of the lock failed: storage unreachable/);
    expect(recovered).toBe(true);
    expect(afterOutage).toBe(true);
  });

  it('says the lease expired once local time passes it without a renewal', async () => {
    const clock = manualClock();
    const lock = new StateLeaseLock({
      store: new LocalStateStore(join(root, 'expiry')),
      clock,
      ttlMs: 60_000,
      renewMs: 0,
    });
    const handle = await lock.acquire('expiry.example.com');

    clock.advance(60_001);
    const reason = handle?.lostReason();
    await handle?.release();

    expect(reason).toMatch(/expired/);
  });

  it('leaves a lease alone on release once another run has taken it over', async () => {
    const store = new LocalStateStore(join(root, 'taken'));
    const clock = manualClock();
    const old = await new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('taken.example.com');
    clock.advance(120_000);
    const current = await new StateLeaseLock({ store, clock, renewMs: 0, owner: 'second' }).acquire(
      'taken.example.com',
    );

    await old?.release();
    const record = await store.read(leaseKeyOf('taken.example.com'));

    expect(current).not.toBeNull();
    expect(JSON.parse(new TextDecoder().decode(record?.value))).toMatchObject({ owner: 'second' });
  });

  it('renews on its timer without being asked', async () => {
    const store = new LocalStateStore(join(root, 'timer'));
    const handle = await new StateLeaseLock({ store, renewMs: 5 }).acquire('timer.example.com');
    const first = await store.read(leaseKeyOf('timer.example.com'));

    await expect
      .poll(async () => (await store.read(leaseKeyOf('timer.example.com')))?.version)
      .not.toBe(first?.version);
    await handle?.release();
  });
});

/** Starts a process that takes lock `key` in `directory` and keeps it until killed; resolves once it holds it. */
async function holderProcess(directory: string, key: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, directory, key], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  child.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
  await expect.poll(() => said, { timeout: 30_000 }).toMatch(/held|busy/);
  return { child, said };
}

function recordingLog() {
  const lines: string[] = [];
  const write = (message: string) => void lines.push(message);
  return { lines, debug: write, info: write, warn: write, error: write };
}

describe('lease of a killed process', () => {
  it('is taken over at once by a CLI run on the same host once its process was SIGKILLed', async () => {
    const directory = join(root, 'killed');
    const store = new LocalStateStore(directory);
    const { child, said } = await holderProcess(directory, 'killed.example.com');
    const whileAlive = await new StateLeaseLock({ store, renewMs: 0, reclaimDeadOwners: true }).acquire(
      'killed.example.com',
    );
    child.kill('SIGKILL');
    await once(child, 'exit');
    const log = recordingLog();

    const afterKill = await new StateLeaseLock({ store, renewMs: 0, reclaimDeadOwners: true, log }).acquire(
      'killed.example.com',
    );
    const record = await store.read(leaseKeyOf('killed.example.com'));
    await afterKill?.release();

    expect(said).toBe('held\n');
    expect(whileAlive).toBeNull();
    expect(afterKill).not.toBeNull();
    expect(JSON.parse(new TextDecoder().decode(record?.value))).toMatchObject({ pid: process.pid });
    expect(log.lines).toContain(
      `took over the run lock of process ${child.pid} on this host, which ended without releasing it`,
    );
  });

  it('is left alone until it expires by a lock that does not reclaim dead owners (the functions)', async () => {
    const directory = join(root, 'killed-hosted');
    const store = new LocalStateStore(directory);
    const { child } = await holderProcess(directory, 'hosted.example.com');
    child.kill('SIGKILL');
    await once(child, 'exit');

    const taken = await new StateLeaseLock({ store, renewMs: 0 }).acquire('hosted.example.com');

    expect(taken).toBeNull();
  });
});

describe('state store from the environment', () => {
  it.each([
    [
      'an S3 bucket for the Lambda',
      { REGPRUNE_STATE_BUCKET: 'regprune-state-abc', AWS_REGION: 'eu-west-1' },
      's3://regprune-state-abc/',
    ],
    [
      "the function app's storage account on Azure",
      { AzureWebJobsStorage__accountName: 'regprunestore' },
      'https://regprunestore.blob.core.windows.net/regprune-state',
    ],
    ['a local directory', { REGPRUNE_STATE: '/var/lib/regprune' }, '/var/lib/regprune'],
  ])('picks %s', async (_, env, location) => {
    const store = await stateStoreFromEnv(env);

    expect(store.location).toBe(location);
  });

  it('says which settings to set when the environment names no store', async () => {
    const building = stateStoreFromEnv({});

    await expect(building).rejects.toThrow(StateUnavailableError);
    await expect(building).rejects.toThrow(/REGPRUNE_STATE_BUCKET.*AzureWebJobsStorage/);
  });

  it.each([
    ['--state as a directory', {}, '/flag/dir', '/flag/dir'],
    ['--state as an S3 bucket', {}, 's3://team-state', 's3://team-state/'],
    [
      '--state as a Blob container',
      {},
      'https://acct.blob.core.windows.net/regprune',
      'https://acct.blob.core.windows.net/regprune',
    ],
    ['REGPRUNE_STATE', { REGPRUNE_STATE: 's3://env-state' }, undefined, 's3://env-state/'],
    ["the functions' bucket, to share their lock", { REGPRUNE_STATE_BUCKET: 'shared' }, undefined, 's3://shared/'],
    ['the cache directory otherwise', { XDG_CACHE_HOME: '/xdg' }, undefined, '/xdg/regprune'],
  ])('gives the CLI %s', async (_, env, flag, location) => {
    const store = await cliStateStore(env, flag);

    expect(store.location).toBe(location);
  });

  it('refuses a --state URL it cannot use, saying which forms work', async () => {
    const building = cliStateStore({}, 'gs://bucket');

    await expect(building).rejects.toThrow(UsageError);
    await expect(building).rejects.toThrow(/s3:\/\/BUCKET/);
  });
});
