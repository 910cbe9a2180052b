import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.js';
import { execute } from '../../lib/execute/index.js';
import type { DeletionJournal, JournalFollower } from '../../lib/execute/journal.js';
import { JournalRecordSchema, journalKey, journalPrefix, StateJournal } from '../../lib/execute/journal-store.js';
import type { Image } from '../../lib/model.js';
import { plan } from '../../lib/plan/index.js';
import { runHosted } from '../../lib/run/hosted.js';
import { exitCodeFor, prune } from '../../lib/run/prune.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { readJson } from '../../lib/state/store.js';
import { silentLogger } from '../../lib/log.js';
import { formatSummary } from '../../lib/report/summary.js';
import { daysAgo, image, index, inventory, NOW, policy, referrer } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';

const REPO = 'app/web';
const ENDPOINT = 'http://127.0.0.1:5000';
const LOCK_KEY = '127.0.0.1:5000';

/** A journal that keeps every write, and what the record says now. */
class RecordingJournal implements DeletionJournal {
  readonly writes: JournalFollower[][] = [];
  failing = false;

  async write(_repository: string, followers: readonly JournalFollower[]): Promise<void> {
    if (this.failing) throw new Error('state store unreachable');
    this.writes.push([...followers]);
  }

  current(): string[] {
    return (this.writes.at(-1) ?? []).map((follower) => follower.digest).sort();
  }
}

/** An old multi-arch build (deleted: keep 0) next to the current one (`latest`). */
function multiArch() {
  const amd64 = image({ name: 'amd64' });
  const arm64 = image({ name: 'arm64' });
  const old = index({ name: 'old', tags: ['b1'], children: [amd64, arm64], pushedAt: daysAgo(20) });
  const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
  return { amd64, arm64, old, current, images: [amd64, arm64, old, current] };
}

async function executeWith(provider: MemoryProvider, journal: DeletionJournal) {
  const listed = inventory(await provider.listImages(REPO), { repository: REPO });
  const repositoryPlan = plan(listed, policy({ keep: 0, pinned: ['latest'] }), NOW);
  return execute({ plan: repositoryPlan, inventory: listed, provider, dryRun: false, journal });
}

describe('the journal, as the executor writes it', () => {
  it("records an index's platform manifests before deleting the index, and clears them when gone", async () => {
    const { amd64, arm64, old, images } = multiArch();
    const provider = new MemoryProvider({ repositories: { [REPO]: images } });
    const journal = new RecordingJournal();
    const onRecordAtIndexDelete: string[][] = [];
    provider.before.set('delete', () => onRecordAtIndexDelete.push(journal.current()));

    const outcome = await executeWith(provider, journal);

    expect(outcome.failed).toEqual([]);
    expect(onRecordAtIndexDelete[0]).toEqual([amd64.digest, arm64.digest].sort());
    expect(journal.writes.every((write) => !write.some((follower) => follower.digest === old.digest))).toBe(true);
    expect(journal.current()).toEqual([]);
  });

  it("records an image's signatures' leftovers: an SBOM under a deleted referrers index is on record", async () => {
    const subject = image({ name: 'subject', tags: ['b1'], pushedAt: daysAgo(20) });
    const sbom = referrer(subject, { name: 'sbom' });
    const referrers = index({
      name: 'referrers',
      tags: [`sha256-${subject.digest.slice('sha256:'.length)}`],
      children: [sbom],
    });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const provider = new MemoryProvider({ repositories: { [REPO]: [subject, sbom, referrers, current] } });
    const journal = new RecordingJournal();
    provider.deleteFailures.set(sbom.digest, '500 Internal Server Error');

    await executeWith(provider, journal);

    expect(journal.writes.some((write) => write.some((follower) => follower.digest === sbom.digest))).toBe(true);
  });

  it('keeps a platform manifest whose delete failed on record, for the next run to retry', async () => {
    const { amd64, images } = multiArch();
    const provider = new MemoryProvider({ repositories: { [REPO]: images } });
    provider.deleteFailures.set(amd64.digest, '500 Internal Server Error');
    const journal = new RecordingJournal();

    const outcome = await executeWith(provider, journal);

    expect(outcome.failed.map((entry) => entry.digest)).toEqual([amd64.digest]);
    expect(journal.current()).toEqual([amd64.digest]);
  });

  it('strikes off the platform manifests of an index whose delete failed: the index still reaches them', async () => {
    const { old, images } = multiArch();
    const provider = new MemoryProvider({ repositories: { [REPO]: images } });
    provider.deleteFailures.set(old.digest, '500 Internal Server Error');
    const journal = new RecordingJournal();

    await executeWith(provider, journal);

    expect(journal.writes.length).toBeGreaterThan(0);
    expect(journal.current()).toEqual([]);
  });

  it('deletes nothing in a batch whose followers could not be recorded first', async () => {
    const { images } = multiArch();
    const provider = new MemoryProvider({ repositories: { [REPO]: images } });
    const journal = new RecordingJournal();
    journal.failing = true;

    const outcome = await executeWith(provider, journal);

    expect(provider.deletedDigests()).toEqual([]);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.failed[0]?.error).toMatch(/could not write the journal/);
  });

  it('writes once per batch, not once per manifest', async () => {
    const children = Array.from({ length: 20 }, (_, n) => image({ name: `child-${n}` }));
    const old = index({ name: 'old', tags: ['b1'], children, pushedAt: daysAgo(20) });
    const current = image({ name: 'current', tags: ['latest'], pushedAt: daysAgo(1) });
    const provider = new MemoryProvider({ repositories: { [REPO]: [...children, old, current] } });
    const journal = new RecordingJournal();

    await executeWith(provider, journal);

    expect(journal.writes.map((write) => write.length)).toEqual([20, 0]);
  });
});

describe('a run finishes the journal an interrupted run left', () => {
  let dir: string;
  let store: LocalStateStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regprune-journal-'));
    store = new LocalStateStore(dir);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const config = (dryRun = false) =>
    parseConfig({
      version: 1,
      dryRun,
      defaults: { keep: 0, minAge: '0s', pinned: ['latest', 'rescued'] },
      registries: [{ name: 'local', provider: 'oci', endpoint: ENDPOINT, repositories: [{ match: 'app/**' }] }],
    });

  /** A registry where an interrupted run deleted `old` and left its platform manifests on record. */
  async function interrupted(): Promise<{ provider: MemoryProvider; stranded: Image[]; current: Image }> {
    const { amd64, arm64, old, current } = multiArch();
    const provider = new MemoryProvider({ repositories: { [REPO]: [amd64, arm64, current] } });
    const journal = new StateJournal({ store, lockKey: LOCK_KEY, runId: 'killed-run', runStartedAt: NOW });
    await journal.write(
      REPO,
      [amd64, arm64].map((child) => ({ ...child, action: 'delete-manifest', wave: 1, follows: old.digest })),
    );
    return { provider, stranded: [amd64, arm64], current };
  }

  it('deletes the followers nothing reaches any more, reports them, and clears the record', async () => {
    const { provider, stranded, current } = await interrupted();

    const report = await prune({ config: config(), now: NOW, providerFor: async () => provider, state: store });

    expect(provider.digests(REPO)).toEqual([current.digest]);
    expect(report.registries[0]!.journal).toEqual([
      {
        repository: REPO,
        finished: stranded.map(({ digest }) => ({ digest, tags: [], action: 'delete-manifest' })),
        failed: [],
        warnings: [],
      },
    ]);
    expect(await store.list(journalPrefix(LOCK_KEY))).toEqual([]);
    expect(exitCodeFor(report)).toBe(0);
    expect(formatSummary(report)).toContain(`${REPO}: from the journal of an interrupted run: finished 2`);
  });

  it('leaves a follower that a tag reaches again, and strikes it off with a warning', async () => {
    const { provider, stranded } = await interrupted();
    provider.setTag(REPO, 'rescued', stranded[0]!.digest);

    const report = await prune({ config: config(), now: NOW, providerFor: async () => provider, state: store });

    expect(provider.digests(REPO)).toContain(stranded[0]!.digest);
    expect(provider.digests(REPO)).not.toContain(stranded[1]!.digest);
    expect(report.registries[0]!.journal?.[0]?.warnings[0]).toMatch(/referenced again/);
    expect(await store.list(journalPrefix(LOCK_KEY))).toEqual([]);
  });

  it('is finished by a hosted run on the state store the host gives it', async () => {
    const { provider, current } = await interrupted();

    const result = await runHosted({
      trigger: 'schedule',
      loadConfig: async () => config(),
      scope: () => ({ dryRun: false }),
      now: NOW,
      log: silentLogger,
      providerFor: async () => provider,
      state: store,
    });

    expect(result.kind).toBe('done');
    expect(provider.digests(REPO)).toEqual([current.digest]);
    expect(await store.list(journalPrefix(LOCK_KEY))).toEqual([]);
  });

  it('keeps a follower whose delete fails on record and exits 1', async () => {
    const { provider, stranded } = await interrupted();
    provider.deleteFailures.set(stranded[0]!.digest, '500 Internal Server Error');

    const report = await prune({ config: config(), now: NOW, providerFor: async () => provider, state: store });

    const left = JournalRecordSchema.parse((await readJson(store, journalKey(LOCK_KEY, REPO, 'killed-run')))?.value);
    expect(left.followers.map((follower) => follower.digest)).toEqual([stranded[0]!.digest]);
    expect(report.registries[0]!.journal?.[0]?.failed.map((entry) => entry.digest)).toEqual([stranded[0]!.digest]);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('in a dry run reports what it would finish and deletes nothing', async () => {
    const { provider, stranded } = await interrupted();

    const report = await prune({ config: config(true), now: NOW, providerFor: async () => provider, state: store });

    expect(provider.deletedDigests()).toEqual([]);
    expect(report.registries[0]!.journal?.[0]?.finished.map((entry) => entry.digest)).toEqual(
      stranded.map((child) => child.digest),
    );
    expect(await store.list(journalPrefix(LOCK_KEY))).toHaveLength(1);
  });

  it('writes the followers of its own deletions and leaves no record behind once it finished them', async () => {
    const { images } = multiArch();
    const provider = new MemoryProvider({ repositories: { [REPO]: images } });
    const created: string[] = [];
    const create = store.create.bind(store);
    store.create = async (key, value) => {
      created.push(key);
      return create(key, value);
    };

    const report = await prune({ config: config(), now: NOW, providerFor: async () => provider, state: store });

    expect(report.registries[0]!.repositories[0]!.images.deleted).toBe(3);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/^journal\/127\.0\.0\.1%3A5000\/app%2Fweb\//);
    expect(report.registries[0]!.journal).toBeUndefined();
    expect(await store.list('journal/')).toEqual([]);
  });
});
