/**
 * The fault matrix (issue 11, item 7), the rows the code survives today: a real registry 2.8 per
 * row, seeded alike, the CLI pointed at a fault proxy in front of it. Each row: run with the
 * fault → (where the fault left work) one clean run → garbage-collect → invariants: every kept tag
 * resolves and pulls completely, no blob or manifest remains that no tag reaches, the store equals
 * an undisturbed run's, and a plan then deletes nothing. The SIGKILL rows are defined in
 * fault-matrix.ts. The lease-lost and graceful-stop rows run here through runHosted and the CLI.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { loadConfigFile } from '../../lib/config/load.js';
import { StateHistoryStore } from '../../lib/history/state.js';
import { silentLogger } from '../../lib/log.js';
import type { Report } from '../../lib/report/types.js';
import { runHosted } from '../../lib/run/hosted.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { reachability } from '../support/blob-store.js';
import {
  deletionLines,
  protectedTagProblems,
  registryOutage,
  reportOf,
  startFaultBench,
  type FaultBench,
  type FaultRow,
  type InvariantReport,
} from '../support/fault-bench.js';
import {
  atMostPerTarget,
  everyNth,
  firstN,
  FOLLOWER_KINDS,
  requestsWhere,
  type ManifestKind,
  type ProxyLogEntry,
} from '../support/fault-proxy.js';
import {
  expectGracefulStop,
  expectLostMoveReported,
  expectRowHeld,
  FOLLOWER_FAILURE_ROWS,
  GRACEFUL_STOP_ROW,
  leaseLostMidRun,
  SIGKILL_ROWS,
  TAG_MOVE_ROWS,
} from './fault-matrix.js';
import { SETUP_TIMEOUT_MS, e2eSkipReason } from './harness.js';

const skipReason = e2eSkipReason();
/** Generous: rows share 2 cores with each other and with the rest of the suite; never asserted. */
const ROW_TIMEOUT_MS = SETUP_TIMEOUT_MS;
const RETRY_AFTER_SECONDS = 1;
/** Timers may fire a few ms early after rounding; a retry sooner than this did not wait at all. */
const TIMER_SLACK_MS = 25;

const CLEAN: InvariantReport = {
  protectedTagProblems: [],
  strandedManifests: [],
  strayBlobs: [],
  missingBlobs: [],
  differencesFromReference: [],
  plannedAfter: [],
};

/** The SIGKILL rows (the journal finishes what a kill leaves) and the failed follower deletes (it retries them). */
const JOURNAL_ROWS = [...SIGKILL_ROWS, ...FOLLOWER_FAILURE_ROWS];

/**
 * The tag rows: moved or pushed before the first batch, both tags survive (the listing before it
 * shows them). Between batches and within a batch, in the instant between that listing and the
 * DELETE, registry 2.8 (no tag delete, no conditional delete) takes them with the digest: those
 * rows assert what is knowable (docs/design.md, section 5, "Limits"); test/wire/oci-tag-delete.test.ts
 * shows both tags surviving there on a registry with tag delete.
 */
const TAG_ROWS_BOTH_SURVIVE = TAG_MOVE_ROWS.filter((row) => row.title.includes('before the first batch'));
const TAG_ROWS_LOST_MOVE = TAG_MOVE_ROWS.filter((row) => !TAG_ROWS_BOTH_SURVIVE.includes(row));

/** Manifests that carry a tag: a failure to delete one leaves it visible to the next run. */
const TAGGED_KINDS: readonly ManifestKind[] = ['index', 'image', 'signature', 'referrer-index'];

// Rows run side by side, each on its own registry and proxy: most of a row is waiting (CLI start,
// Retry-After, backoff, a registry restart), and the file must stay within CI's time.
describe.skipIf(skipReason !== null)('the fault matrix: a run survives registry faults', { concurrent: true }, () => {
  let bench: FaultBench;

  beforeAll(async () => {
    bench = await startFaultBench();
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await bench?.dispose();
  });

  /** Runs `body` on a fresh row and disposes of the row whatever happens. */
  const withRow = async (name: string, body: (row: FaultRow) => Promise<void>): Promise<void> => {
    const row = await bench.newRow(name);
    try {
      await body(row);
    } finally {
      await row.dispose();
    }
  };

  it(
    'an undisturbed run leaves only what the kept tags reach (the reference every row is compared with)',
    async ({ expect }) => {
      const reference = await bench.reference();

      expect(reference.report.totals.failed).toBe(0);
      expect(reference.report.totals.deleted).toBe(27);
      expect(reference.protectedTags.length).toBeGreaterThan(10);
      expect(reference.deletesByKind.get('child')).toBeGreaterThan(0);
      expect(reference.invariants).toEqual(CLEAN);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'the invariants catch what a crash leaves: an index deleted without its platform manifests strands them',
    async ({ expect }) =>
      withRow('detector', async (row) => {
        const index = await row.reader.resolve('app/multi', 'm1');
        const children = (await row.reader.manifest('app/multi', 'm1')).manifests ?? [];

        const deleted = await fetch(new URL(`/v2/app/multi/manifests/${index}`, row.registry.url), {
          method: 'DELETE',
        });
        await row.registry.garbageCollect();
        const reached = await reachability(row.registry.storageDir);

        expect(deleted.status).toBe(202);
        expect(children).toHaveLength(4);
        expect(reached.strandedManifests).toEqual(children.map((child) => `app/multi@${child.digest}`).sort());
        expect(reached.strayBlobs.length).toBeGreaterThan(children.length);
      }),
    ROW_TIMEOUT_MS,
  );

  it(
    'after 500s on a share of the deletes of tagged manifests, the run exits 1 and one more run finishes the job',
    async ({ expect }) =>
      withRow('500s', async (faulty) => {
        faulty.proxy.setRules([
          {
            name: '500 on every 3rd tagged delete',
            match: requestsWhere({ method: 'DELETE', manifestKind: TAGGED_KINDS }),
            pick: everyNth(3),
            fault: { kind: 'status', status: 500 },
          },
        ]);

        const first = await faulty.prune().done;
        const injected = faulty.proxy.injected();
        const second = await faulty.cleanPrune();
        const invariants = await faulty.verify();

        expect(injected).toBeGreaterThan(0);
        expect(first.code).toBe(1);
        expect(reportOf(first).totals.failed).toBeGreaterThan(0);
        expect(second.code).toBe(0);
        expect(reportOf(second).totals.failed).toBe(0);
        expect([...deletionLines(reportOf(first)), ...deletionLines(reportOf(second))].sort()).toEqual(
          deletionLines((await bench.reference()).report),
        );
        expect(invariants).toEqual(CLEAN);
      }),
    ROW_TIMEOUT_MS,
  );

  it(
    'absorbs connection resets, before a request reaches the registry and after a delete took effect',
    async ({ expect }) =>
      withRow('resets', async (faulty) => {
        faulty.proxy.setRules([
          {
            name: 'reset after every 3rd delete took effect',
            match: requestsWhere({ method: 'DELETE' }),
            pick: atMostPerTarget(everyNth(3)),
            fault: { kind: 'reset', after: true },
          },
          {
            name: 'reset every 5th read before it reaches the registry',
            match: (request) => request.method !== 'DELETE',
            pick: atMostPerTarget(everyNth(5)),
            fault: { kind: 'reset', after: false },
          },
        ]);

        const run = await faulty.prune().done;
        const resets = faulty.proxy.log.filter((entry) => entry.outcome === 'reset').length;
        const invariants = await faulty.verify();

        expect(resets).toBeGreaterThanOrEqual(10);
        expect(run.code).toBe(0);
        expect(reportOf(run).totals.failed).toBe(0);
        expect(deletionLines(reportOf(run))).toEqual(deletionLines((await bench.reference()).report));
        expect(invariants).toEqual(CLEAN);
      }),
    ROW_TIMEOUT_MS,
  );

  it(
    'waits out a 429 storm on listing and on deleting as long as Retry-After says, and completes',
    async ({ expect }) =>
      withRow('429 storm', async (faulty) => {
        const storm = { kind: 'status', status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS } as const;
        faulty.proxy.setRules([
          { name: 'storm on tag lists', match: requestsWhere({ resource: 'tags' }), pick: firstN(3), fault: storm },
          { name: 'storm on deletes', match: requestsWhere({ method: 'DELETE' }), pick: firstN(4), fault: storm },
        ]);

        const run = await faulty.prune().done;
        const log = [...faulty.proxy.log];
        const invariants = await faulty.verify();

        expect(faulty.proxy.injected('storm on tag lists')).toBe(3);
        expect(faulty.proxy.injected('storm on deletes')).toBe(4);
        expect(retriesSoonerThan(log, RETRY_AFTER_SECONDS * 1000 - TIMER_SLACK_MS)).toEqual([]);
        expect(run.code).toBe(0);
        expect(reportOf(run).totals.failed).toBe(0);
        expect(deletionLines(reportOf(run))).toEqual(deletionLines((await bench.reference()).report));
        expect(invariants).toEqual(CLEAN);
      }),
    ROW_TIMEOUT_MS,
  );

  it(
    'rides out the registry being stopped and started again between batches (index deleted, children next)',
    async ({ expect }) =>
      withRow('registry restart', async (faulty) => {
        const outage = registryOutage(
          faulty,
          (request) => request.method === 'DELETE' && FOLLOWER_KINDS.includes(request.manifestKind ?? 'unknown'),
          2,
        );
        faulty.proxy.setHooks(outage);

        const run = await faulty.prune().done;
        const downAnswers = faulty.proxy.log.filter((entry) => entry.outcome === 'upstream-down').length;
        const invariants = await faulty.verify();

        expect(outage.state()).toBe('restarted');
        expect(downAnswers).toBeGreaterThanOrEqual(2);
        expect(run.code).toBe(0);
        expect(reportOf(run).totals.failed).toBe(0);
        expect(deletionLines(reportOf(run))).toEqual(deletionLines((await bench.reference()).report));
        expect(invariants).toEqual(CLEAN);
      }),
    ROW_TIMEOUT_MS,
  );

  it(
    'a lease lost mid-run (at the first image delete) starts no further delete batch, and one more run finishes',
    async ({ expect }) =>
      withRow('lease lost', async (row) => {
        let report: Report | null = null;

        const { lostAtSeq, deletesAfterLoss } = await leaseLostMidRun(row, async ({ configPath, lock }) => {
          const result = await runHosted({
            trigger: 'cli',
            // One repository at a time: with more, each repository's batch in flight at the loss finishes.
            loadConfig: async () => {
              const config = await loadConfigFile(configPath);
              return { ...config, registries: config.registries.map((r) => ({ ...r, repositoryConcurrency: 1 })) };
            },
            scope: () => ({ dryRun: false }),
            now: new Date(),
            log: silentLogger,
            lock,
          });
          report = result.kind === 'done' ? result.report : null;
        });
        const faulty = report as Report | null;
        const problemsAfterFaultyRun = await protectedTagProblems(row.reader, (await bench.reference()).protectedTags);
        const followUp = await row.cleanPrune();
        const invariants = await row.verify();

        expect(lostAtSeq).not.toBeNull();
        // Only the rest of the batch in flight when the lease went: app/web's images, nothing after.
        expect(deletesAfterLoss.map((request) => `${request.repository} ${request.manifestKind}`)).toEqual(
          deletesAfterLoss.map(() => 'app/web image'),
        );
        expect(faulty?.registries[0]?.error).toMatch(/the run lock was lost .*the test took the lease away/);
        expect(faulty?.complete).toBe(false);
        expect(faulty?.registries[0]?.repositories.map((repository) => repository.name)).not.toContain('tools/cli');
        expect(problemsAfterFaultyRun).toEqual([]);
        expect(followUp.code).toBe(0);
        expect(reportOf(followUp).totals.failed).toBe(0);
        expect(invariants).toEqual(CLEAN);
      }),
    ROW_TIMEOUT_MS,
  );

  it(
    GRACEFUL_STOP_ROW.title,
    async ({ expect }) =>
      withRow('graceful stop', async (row) => {
        const outcome = await GRACEFUL_STOP_ROW.run(bench, row);
        const history = await new StateHistoryStore({ store: new LocalStateStore(row.stateDir) }).read();
        const stopped = reportOf(outcome.faulty);

        expect(outcome.faultFired).toBe(true);
        expectGracefulStop(expect, outcome);
        expect(stopped.stopped).toBe('stopped by SIGINT');
        expect(stopped.totals.pending).toBeGreaterThan(0);
        expect(history.entries.map((entry) => entry.complete)).toEqual([false, true]);
        expect(outcome.problemsAfterFaultyRun).toEqual([]);
        expect(outcome.followUp.code).toBe(0);
        // What the stop left after its index deletes (platform manifests, attestations) is on the journal, which
        // the follow-up run finishes: nothing stays stranded.
        expect(outcome.invariants).toEqual(CLEAN);
      }),
    ROW_TIMEOUT_MS,
  );

  for (const matrixRow of TAG_ROWS_LOST_MOVE) {
    it(
      matrixRow.title,
      async ({ expect }) =>
        withRow(matrixRow.title, async (faulty) => {
          const outcome = await matrixRow.run(bench, faulty);

          expectLostMoveReported(expect, outcome);
          expectRowHeld(expect, outcome);
        }),
      ROW_TIMEOUT_MS,
    );
  }

  for (const matrixRow of [...JOURNAL_ROWS, ...TAG_ROWS_BOTH_SURVIVE]) {
    it(
      matrixRow.title,
      async ({ expect }) =>
        withRow(matrixRow.title, async (faulty) => expectRowHeld(expect, await matrixRow.run(bench, faulty))),
      ROW_TIMEOUT_MS,
    );
  }
});

/**
 * Requests answered 429 whose retry (same method and path) came sooner than `minimumMs`: a lower
 * bound the client must respect, so slowness can never fail it.
 */
function retriesSoonerThan(log: readonly ProxyLogEntry[], minimumMs: number): string[] {
  const early: string[] = [];
  for (const [at, entry] of log.entries()) {
    if (entry.outcome !== 429) continue;
    const { method, path } = entry.request;
    const retry = log.slice(at + 1).find((later) => later.request.method === method && later.request.path === path);
    if (retry === undefined) early.push(`${method} ${path}: never retried`);
    else if (retry.request.arrivedAtMs - entry.atMs < minimumMs)
      early.push(`${method} ${path}: retried after ${Math.round(retry.request.arrivedAtMs - entry.atMs)} ms`);
  }
  return early;
}
