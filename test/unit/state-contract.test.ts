/**
 * One contract for every state store backend: the local directory, Azure Blob (Azurite) and S3 (the
 * wire fake). Each backend passes the same cases: CAS races, lease expiry and takeover, history.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../lib/history/entry.js';
import { StateHistoryStore } from '../../lib/history/state.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { BlobStateStore } from '../../lib/state/azure-blob.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { S3StateStore } from '../../lib/state/s3.js';
import type { StateStore } from '../../lib/state/store.js';
import { startAzurite, type Azurite } from '../support/azurite.js';
import { startFakeS3, type FakeS3 } from '../support/fake-s3.js';

/** Small pages, so listing a handful of keys already takes several pages. */
const PAGE_SIZE = 2;
const RACE_ROUNDS = 15;

interface Backend {
  readonly name: string;
  start(): Promise<void>;
  /** A fresh, empty store (its own directory, container or key space). */
  store(): StateStore;
  stop(): Promise<void>;
}

let counter = 0;
const unique = () => `t${Date.now().toString(36)}${(counter++).toString(36)}`;

function localBackend(): Backend {
  let root = '';
  return {
    name: 'local directory',
    start: async () => {
      root = await mkdtemp(join(tmpdir(), 'regprune-state-'));
    },
    store: () => new LocalStateStore(join(root, unique())),
    stop: () => rm(root, { recursive: true, force: true }),
  };
}

function azureBackend(): Backend {
  let azurite: Azurite;
  let service: BlobServiceClient;
  return {
    name: 'Azure Blob (Azurite)',
    start: async () => {
      azurite = await startAzurite();
      service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    },
    store: () => new BlobStateStore({ service, container: unique(), pageSize: PAGE_SIZE }),
    stop: () => azurite.stop(),
  };
}

function s3Backend(): Backend {
  let fake: FakeS3;
  let client: S3Client;
  return {
    name: 'S3 (wire fake)',
    start: async () => {
      fake = await startFakeS3();
      client = new S3Client({
        endpoint: fake.endpoint,
        region: 'eu-west-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    },
    // One bucket; a fresh store is a fresh key space, so prefix the keys the tests use instead.
    store: () => new PrefixedStore(new S3StateStore({ client, bucket: fake.bucket, pageSize: PAGE_SIZE }), unique()),
    stop: async () => {
      client.destroy();
      await fake.stop();
    },
  };
}

/** Keeps each test's keys apart in one shared bucket. */
class PrefixedStore implements StateStore {
  readonly location: string;
  constructor(
    private readonly inner: StateStore,
    private readonly prefix: string,
  ) {
    this.location = inner.location;
  }
  read(key: string) {
    return this.inner.read(`${this.prefix}/${key}`);
  }
  create(key: string, value: Uint8Array | string) {
    return this.inner.create(`${this.prefix}/${key}`, value);
  }
  replace(key: string, value: Uint8Array | string, version: string) {
    return this.inner.replace(`${this.prefix}/${key}`, value, version);
  }
  delete(key: string, version?: string) {
    return this.inner.delete(`${this.prefix}/${key}`, version);
  }
  async list(prefix: string) {
    const keys = await this.inner.list(`${this.prefix}/${prefix}`);
    return keys.map((key) => key.slice(this.prefix.length + 1));
  }
}

const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** A clock the test moves by hand: wall and monotonic time advance together. */
function manualClock(startWallMs = Date.parse('2026-11-27T12:00:00Z')) {
  let elapsed = 0;
  return {
    wallMs: () => startWallMs + elapsed,
    monotonicMs: () => elapsed,
    advance: (ms: number) => {
      elapsed += ms;
    },
  };
}

function historyEntry(at: string, deleted: number): HistoryEntry {
  return {
    version: 1,
    at,
    dryRun: false,
    complete: true,
    totals: {
      repositories: 1,
      imagesBefore: 10,
      deleted,
      failed: 0,
      bytesBefore: 100,
      bytesAfter: 50,
      bytesReclaimed: 50,
      bytesUntagged: 0,
      accuracy: 'exact',
      currency: null,
      costBefore: null,
      costAfter: null,
      costSaved: null,
    },
    registries: [],
  };
}

describe.each([localBackend(), azureBackend(), s3Backend()])('state store contract: $name', (backend) => {
  beforeAll(() => backend.start(), 60_000);
  afterAll(() => backend.stop());

  describe('records', () => {
    it('reads nothing for a key never written', async () => {
      const store = backend.store();

      const record = await store.read('locks/none');

      expect(record).toBeNull();
    });

    it('creates a record once and refuses to create it again', async () => {
      const store = backend.store();

      const first = await store.create('cursor/a', 'one');
      const second = await store.create('cursor/a', 'two');
      const record = await store.read('cursor/a');

      expect(first.ok).toBe(true);
      expect(second.ok).toBe(false);
      expect(text(record?.value)).toBe('one');
      expect(record?.version).toBe(first.ok ? first.version : 'unreachable');
    });

    it('keeps bytes exactly as written', async () => {
      const store = backend.store();
      const bytes = new Uint8Array([0, 10, 255, 13, 10, 0]);

      await store.create('cache/bytes', bytes);
      const record = await store.read('cache/bytes');

      expect(record?.value).toEqual(bytes);
    });

    it('replaces a record only while its version is unchanged', async () => {
      const store = backend.store();
      const created = await store.create('journal/r', 'v1');
      const v1 = created.ok ? created.version : '';

      const replaced = await store.replace('journal/r', 'v2', v1);
      const stale = await store.replace('journal/r', 'v3', v1);
      const record = await store.read('journal/r');

      expect(replaced.ok).toBe(true);
      expect(replaced.ok && replaced.version).not.toBe(v1);
      expect(stale.ok).toBe(false);
      expect(text(record?.value)).toBe('v2');
    });

    it('gives a new version even when the same bytes are written again under a new value in between', async () => {
      const store = backend.store();
      const created = await store.create('journal/aba', 'same');
      const v1 = created.ok ? created.version : '';
      const middle = await store.replace('journal/aba', 'other', v1);

      const back = await store.replace('journal/aba', 'same', middle.ok ? middle.version : '');
      const staleMiddle = await store.replace('journal/aba', 'x', middle.ok ? middle.version : '');

      expect(back.ok).toBe(true);
      expect(staleMiddle.ok).toBe(false);
    });

    it('refuses to replace a record that does not exist', async () => {
      const store = backend.store();
      const created = await store.create('journal/gone', 'v1');
      await store.delete('journal/gone');

      const replaced = await store.replace('journal/gone', 'v2', created.ok ? created.version : '');

      expect(replaced.ok).toBe(false);
      expect(await store.read('journal/gone')).toBeNull();
    });

    it('deletes conditionally only at the current version, and unconditionally always', async () => {
      const store = backend.store();
      const created = await store.create('locks/d', 'v1');
      const v1 = created.ok ? created.version : '';
      const v2 = await store.replace('locks/d', 'v2', v1);

      const staleDelete = await store.delete('locks/d', v1);
      const currentDelete = await store.delete('locks/d', v2.ok ? v2.version : '');
      const afterDelete = await store.read('locks/d');
      const missingConditional = await store.delete('locks/d', v1);
      const missingUnconditional = await store.delete('locks/d');

      expect(staleDelete.ok).toBe(false);
      expect(currentDelete.ok).toBe(true);
      expect(afterDelete).toBeNull();
      expect(missingConditional.ok).toBe(false);
      expect(missingUnconditional.ok).toBe(true);
    });

    it('lists every key under a prefix across pages, in order, and nothing outside it', async () => {
      const store = backend.store();
      const inside = ['list/a/1', 'list/a/2', 'list/a/3', 'list/a/4', 'list/a/5', 'list/a/deep/6', 'list/ab'];
      const outside = ['list/b/1', 'lisz', 'other/list/a/1'];
      await Promise.all([...inside, ...outside].map((key) => store.create(key, key)));

      const underDirectory = await store.list('list/a/');
      const partialSegment = await store.list('list/a');
      const none = await store.list('nothing/');

      expect(underDirectory).toEqual(inside.filter((key) => key.startsWith('list/a/')));
      expect(partialSegment).toEqual(inside);
      expect(none).toEqual([]);
    });

    it('rejects a key that could escape its place', async () => {
      const store = backend.store();

      const escaping = store.read('locks/../../etc/passwd');

      await expect(escaping).rejects.toThrow(/invalid state key/);
    });
  });

  describe('compare-and-swap races', () => {
    it('lets exactly one of two writers replace the same version, every round', async () => {
      const store = backend.store();
      const created = await store.create('race/replace', 'start');
      let version = created.ok ? created.version : '';
      const winners: number[] = [];

      for (let round = 0; round < RACE_ROUNDS; round++) {
        const results = await Promise.all([
          store.replace('race/replace', `a${round}`, version),
          store.replace('race/replace', `b${round}`, version),
        ]);
        const won = results.filter((result) => result.ok);
        winners.push(won.length);
        const current = await store.read('race/replace');
        version = current?.version ?? '';
      }

      expect(winners).toEqual(Array(RACE_ROUNDS).fill(1));
    });

    it('lets exactly one of two writers create the same key, every round', async () => {
      const store = backend.store();
      const winners: number[] = [];

      for (let round = 0; round < RACE_ROUNDS; round++) {
        const results = await Promise.all([
          store.create(`race/create/${round}`, 'a'),
          store.create(`race/create/${round}`, 'b'),
        ]);
        winners.push(results.filter((result) => result.ok).length);
      }

      expect(winners).toEqual(Array(RACE_ROUNDS).fill(1));
    });

    it('loses no update when writers retry read-modify-write until they win', async () => {
      const store = backend.store();
      await store.create('race/counter', '0');
      const increment = async () => {
        for (;;) {
          const current = await store.read('race/counter');
          const next = String(Number(text(current?.value)) + 1);
          if ((await store.replace('race/counter', next, current?.version ?? '')).ok) return;
        }
      };
      const writers = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 5; i++) await increment();
      });

      await Promise.all(writers);
      const final = await store.read('race/counter');

      expect(text(final?.value)).toBe('20');
    });
  });

  describe('run lock lease', () => {
    it('lets one run hold a registry and refuses a second until the first releases', async () => {
      const store = backend.store();
      const first = new StateLeaseLock({ store, renewMs: 0 });
      const second = new StateLeaseLock({ store, renewMs: 0 });

      const held = await first.acquire('registry.example.com');
      const refused = await second.acquire('registry.example.com');
      await held?.release();
      const afterRelease = await second.acquire('registry.example.com');
      await afterRelease?.release();

      expect(held).not.toBeNull();
      expect(refused).toBeNull();
      expect(afterRelease).not.toBeNull();
    });

    it('lets another run take over a lease that expired, and the old holder learns it lost it', async () => {
      const store = backend.store();
      const clock = manualClock();
      const crashed = new StateLeaseLock({ store, clock, ttlMs: 60_000, renewMs: 0 });
      const next = new StateLeaseLock({ store, clock, ttlMs: 60_000, renewMs: 0 });
      const old = await crashed.acquire('127.0.0.1:5000');
      clock.advance(61_000);

      const taken = await next.acquire('127.0.0.1:5000');
      const renewed = await old?.renew();
      await old?.release();
      const third = await new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('127.0.0.1:5000');

      expect(taken).not.toBeNull();
      expect(renewed).toBe(false);
      expect(old?.heldFor(0)).toBe(false);
      expect(old?.lostReason()).toMatch(/another run took the lock over|released/);
      expect(third).toBeNull();
      expect(taken?.heldFor(10_000)).toBe(true);
      await taken?.release();
    });

    it('lets exactly one of two runs take over an expired lease', async () => {
      const store = backend.store();
      const clock = manualClock();
      await new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('contended');
      clock.advance(120_000);

      const [a, b] = await Promise.all([
        new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('contended'),
        new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('contended'),
      ]);

      expect([a, b].filter((handle) => handle !== null)).toHaveLength(1);
    });

    it('vouches for the lease only until its expiry minus the margin, and again after a renewal', async () => {
      const store = backend.store();
      const clock = manualClock();
      const handle = await new StateLeaseLock({ store, clock, ttlMs: 60_000, renewMs: 0 }).acquire('margin');

      const fresh = handle?.heldFor(15_000);
      clock.advance(50_000);
      const late = handle?.heldFor(15_000);
      const renewed = await handle?.renew();
      const afterRenewal = handle?.heldFor(15_000);
      await handle?.release();

      expect(fresh).toBe(true);
      expect(late).toBe(false);
      expect(renewed).toBe(true);
      expect(afterRenewal).toBe(true);
    });

    it('keeps a renewed lease from being taken over after the first expiry would have passed', async () => {
      const store = backend.store();
      const clock = manualClock();
      const holder = await new StateLeaseLock({ store, clock, ttlMs: 60_000, renewMs: 0 }).acquire('renewed');
      clock.advance(40_000);
      await holder?.renew();
      clock.advance(40_000);

      const contender = await new StateLeaseLock({ store, clock, renewMs: 0 }).acquire('renewed');
      await holder?.release();

      expect(contender).toBeNull();
    });
  });

  describe('run history', () => {
    it('keeps every entry of concurrent appends and reads them oldest first', async () => {
      const history = new StateHistoryStore({ store: backend.store() });
      const entries = [
        historyEntry('2026-11-03T10:00:00.000Z', 3),
        historyEntry('2026-11-01T10:00:00.000Z', 1),
        historyEntry('2026-11-02T10:00:00.000Z', 2),
        historyEntry('2026-11-02T10:00:00.000Z', 4),
      ];

      await Promise.all(entries.map((entry) => history.append(entry)));
      const read = await history.read();

      expect(read.skipped).toEqual([]);
      expect(read.entries.map((entry) => entry.totals.deleted)).toEqual([1, expect.any(Number), expect.any(Number), 3]);
      expect(read.entries.map((entry) => entry.totals.deleted).sort()).toEqual([1, 2, 3, 4]);
    });

    it('skips a record that is not a history entry and says which', async () => {
      const store = backend.store();
      const history = new StateHistoryStore({ store });
      await history.append(historyEntry('2026-11-01T10:00:00.000Z', 1));
      await store.create('history/zz-broken.json', '{"version":1');

      const read = await history.read();

      expect(read.entries).toHaveLength(1);
      expect(read.skipped).toEqual([expect.stringMatching(/^history\/zz-broken\.json: not JSON/)]);
    });
  });
});
