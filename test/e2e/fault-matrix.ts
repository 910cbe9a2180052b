/**
 * The fault-matrix rows, all registered in faults.test.ts: SIGKILL at six points, failed follower
 * deletes, a protected tag moved or pushed at three points (before the first batch both tags
 * survive; between batches and within a batch registry 2.8 can only do what is knowable, and the
 * rows assert exactly that), and the graceful stop. Not a test file (no `.test.ts`): vitest does
 * not collect it. Each row: seed → run with the fault at a precise request → one clean run →
 * garbage-collect → the invariants of fault-bench.ts.
 */
import type { ExpectStatic } from 'vitest';
import type { LockHandle, RunLock } from '../../lib/lock/lock.js';
import type { InvariantReport, FaultBench, FaultRow } from '../support/fault-bench.js';
import { keptTags, killCliAt, protectedTagProblems, reportOf } from '../support/fault-bench.js';
import type { CliExit } from '../support/cli-process.js';
import { everyNth, FOLLOWER_KINDS, type ManifestKind, type ProxiedRequest } from '../support/fault-proxy.js';
import { storeState } from '../support/blob-store.js';
import { RegistryPusher } from '../support/seed.js';

/** What a row needs before it can pass. */
export type FutureFeature = 'journal' | 'tag-restore' | 'graceful-stop' | 'lease-check';

export interface MatrixOutcome {
  /** The fault happened (the point was reached): otherwise the row proved nothing. */
  readonly faultFired: boolean;
  /** The disturbed run. */
  readonly faulty: CliExit;
  /** The clean run after it. */
  readonly followUp: CliExit;
  /** Protected tags that did not resolve or pull right after the disturbed run (before the clean one). */
  readonly problemsAfterFaultyRun: readonly string[];
  readonly invariants: InvariantReport;
  /** Tag-move rows: the image `latest` was moved (and `release-hotfix` pushed) onto. */
  readonly movedOnto?: string;
  /** Tag-move rows: where `latest` pointed before the run. */
  readonly latestBefore?: string;
}

export interface MatrixRow {
  /** The behaviour, as the test's name. */
  readonly title: string;
  readonly needs: readonly FutureFeature[];
  run(bench: FaultBench, row: FaultRow): Promise<MatrixOutcome>;
}

const CLEAN: InvariantReport = {
  protectedTagProblems: [],
  strandedManifests: [],
  strayBlobs: [],
  missingBlobs: [],
  differencesFromReference: [],
  plannedAfter: [],
};

/** The assertions every row makes: the fault fired, the follow-up run succeeded, every invariant holds. */
export function expectRowHeld(expect: ExpectStatic, outcome: MatrixOutcome): void {
  expect(outcome.faultFired).toBe(true);
  expect(outcome.problemsAfterFaultyRun).toEqual([]);
  expect(outcome.followUp.code).toBe(0);
  expect(reportOf(outcome.followUp).totals.failed).toBe(0);
  expect(outcome.invariants).toEqual(CLEAN);
}

const deleteOf =
  (kind: ManifestKind, nth: number) =>
  (request: ProxiedRequest): boolean =>
    request.method === 'DELETE' && request.manifestKind === kind && request.nth === nth;

/** A SIGKILL of the CLI at the first request `trigger` matches (`after`: once the registry acted on it). */
function sigkillRow(
  title: string,
  trigger: (bench: FaultBench) => Promise<(request: ProxiedRequest) => boolean>,
  when: 'before' | 'after',
  needs: readonly FutureFeature[],
): MatrixRow {
  return {
    title,
    needs,
    async run(bench, row) {
      const kill = killCliAt(row, await trigger(bench), { when });
      row.proxy.setHooks(kill);
      const faulty = await row.prune().done;
      const reference = await bench.reference();
      const problemsAfterFaultyRun = await protectedTagProblems(row.reader, reference.protectedTags);
      const followUp = await row.cleanPrune();
      return { faultFired: kill.fired(), faulty, followUp, problemsAfterFaultyRun, invariants: await row.verify() };
    },
  };
}

/**
 * SIGKILL at five points of a run, and in the referrers' deletion (issue 11, item 7). The rows
 * that need nothing (a subject stays tagged until its own delete, so the next run sees it) run in
 * faults.test.ts already.
 */
export const SIGKILL_ROWS: readonly MatrixRow[] = [
  sigkillRow(
    'a run killed while listing (5th manifest read) loses nothing, and the next run does the whole job',
    async () => (request) => request.method === 'GET' && request.resource === 'manifest' && request.nth === 5,
    'before',
    [],
  ),
  sigkillRow(
    'a run killed just after its first signature delete leaves nothing stranded once one more run is done',
    async () => deleteOf('signature', 1),
    'after',
    [],
  ),
  sigkillRow(
    'a run killed just after its last signature delete (subjects next) leaves nothing stranded',
    async (bench) => deleteOf('signature', (await bench.reference()).deletesByKind.get('signature') ?? 1),
    'after',
    [],
  ),
  sigkillRow(
    'a run killed just after deleting an index, before its platform manifests, leaves nothing stranded',
    async () => deleteOf('index', 1),
    'after',
    ['journal'],
  ),
  sigkillRow(
    'a run killed while deleting the platform manifests and attestations of an index leaves nothing stranded',
    // The first follower: with 8 followers and 4 requests in flight, some are not sent yet.
    async () => {
      let followers = 0;
      return (request) =>
        request.method === 'DELETE' && FOLLOWER_KINDS.includes(request.manifestKind ?? 'unknown') && ++followers === 1;
    },
    'after',
    ['journal'],
  ),
  sigkillRow(
    'a run killed just after deleting a referrers fallback index, before its SBOM, leaves nothing stranded',
    async () => deleteOf('referrer-index', 1),
    'after',
    ['journal'],
  ),
];

/** Where, in app/web's deletions, a protected tag is moved or pushed. */
type TagMovePoint = 'before the first batch' | 'between batches' | 'within a batch';

/**
 * At the chosen point the test holds a DELETE of an app/web image and, directly on the registry,
 * moves the kept tag `latest` onto that very image and pushes a new tag `release-hotfix` (pinned
 * by `release-*`) onto it; then lets the DELETE go. On registry 2.8 deleting the digest takes both
 * tags with it. Points: the first DELETE of app/web (its signatures' batch: after re-verification,
 * before any delete; the tags go onto the image that signature signs), the first image DELETE (the
 * signatures' batch is done), the second image DELETE (its batch's first is already in flight).
 * Only digest DELETEs count (not the tag-delete probe). Resolves to the image the tags went onto.
 */
async function moveTagsAt(point: TagMovePoint, row: FaultRow): Promise<() => string | null> {
  // Counted in app/web alone: other repositories are pruned side by side, so a registry-wide count
  // (the proxy's `nth`) would depend on timing.
  let deletesInRepository = 0;
  let imageDeletesInRepository = 0;
  const trigger = (request: ProxiedRequest): boolean => {
    if (point === 'before the first batch') return deletesInRepository === 1;
    return request.manifestKind === 'image' && imageDeletesInRepository === (point === 'between batches' ? 1 : 2);
  };
  const pusher = new RegistryPusher(row.registry.url);
  let target: string | null = null;
  row.proxy.setHooks({
    async beforeForward(request) {
      if (request.method !== 'DELETE' || request.repository !== 'app/web' || request.manifestKind === 'unknown')
        return undefined;
      deletesInRepository++;
      if (request.manifestKind === 'image') imageDeletesInRepository++;
      if (target !== null || !trigger(request)) return undefined;
      target = request.manifestKind === 'image' ? request.reference : await signedImage(row, request.reference ?? '');
      if (target === null) throw new Error(`no image to move latest onto at ${request.path}`);
      const manifest = await fetchManifest(row.registry.url, 'app/web', target);
      await pusher.tag('app/web', manifest.bytes, manifest.mediaType, ['latest', 'release-hotfix']);
      return undefined;
    },
  });
  return () => target;
}

/** Before the first batch: the listing before it shows both tags, so the image is never deleted. */
function tagMoveRow(point: TagMovePoint): MatrixRow {
  return {
    title: `a kept tag moved, and a new pinned tag pushed, onto an image being deleted ${point} both survive`,
    needs: ['tag-restore'],
    async run(bench, row) {
      const reference = await bench.reference();
      const movedOnto = await moveTagsAt(point, row);
      const faulty = await row.prune().done;
      const moved = movedOnto() ?? 'sha256:none';
      const problemsAfterFaultyRun = await protectedTagProblems(row.reader, [
        ...reference.protectedTags.filter((tag) => !(tag.repository === 'app/web' && tag.tag === 'latest')),
        { repository: 'app/web', tag: 'latest', digest: moved },
        { repository: 'app/web', tag: 'release-hotfix', digest: moved },
      ]);
      const before = (await storeState(row.registry.storageDir)).tags;
      const followUp = await row.cleanPrune();
      const invariants = await row.verify({
        protectedTags: keptTags(reportOf(followUp), before),
        compareToReference: false,
      });
      return {
        faultFired: movedOnto() !== null,
        faulty,
        followUp,
        problemsAfterFaultyRun,
        invariants,
        movedOnto: moved,
      };
    },
  };
}

/**
 * Between batches and within a batch on registry 2.8 (no tag delete, no conditional delete): the
 * tags go onto an image in the instant between the listing before its batch and its DELETE, and
 * the DELETE takes them. What is knowable is asserted: `latest` vanished though where it pointed
 * was not deleted, while the batch deleted several images, so it was moved onto one of them and
 * the registry cannot say which; it goes back where it pointed (resolves and pulls), the run names
 * it in `lostTags` with the candidates and exits 1. `release-hotfix` was never listed: its name is
 * gone with the image and nothing can report it (docs/design.md, section 5, "Limits"). Every tag
 * the run knew resolves and pulls, the next run converges, and garbage-collect leaves no stray blob.
 */
function lostMoveRow(point: Exclude<TagMovePoint, 'before the first batch'>): MatrixRow {
  return {
    title:
      `registry 2.8: latest moved onto an image ${point} goes back where it was and is reported lost (exit 1); ` +
      'a tag pushed in that instant is gone unreported; every tag the run knew pulls and the next run converges',
    needs: ['tag-restore'],
    async run(bench, row) {
      const reference = await bench.reference();
      const movedOnto = await moveTagsAt(point, row);
      const faulty = await row.prune().done;
      const problemsAfterFaultyRun = await protectedTagProblems(row.reader, reference.protectedTags);
      const followUp = await row.cleanPrune();
      const invariants = await row.verify();
      const latestBefore = reference.protectedTags.find((tag) => tag.repository === 'app/web' && tag.tag === 'latest');
      return {
        faultFired: movedOnto() !== null,
        faulty,
        followUp,
        problemsAfterFaultyRun,
        invariants,
        movedOnto: movedOnto() ?? 'sha256:none',
        latestBefore: latestBefore?.digest ?? 'sha256:none',
      };
    },
  };
}

/** What a lost-move row on registry 2.8 must report, on top of the invariants (`expectRowHeld`). */
export function expectLostMoveReported(expect: ExpectStatic, outcome: MatrixOutcome): void {
  const report = reportOf(outcome.faulty);
  const web = report.registries[0]?.repositories.find((repository) => repository.name === 'app/web');
  expect(outcome.faulty.code).toBe(1);
  expect(web?.lostTags).toEqual([
    expect.objectContaining({
      tag: 'latest',
      digest: outcome.latestBefore,
      putBackOnto: outcome.latestBefore,
      candidates: expect.arrayContaining([outcome.movedOnto]),
    }),
  ]);
  expect(web?.lostTags?.[0]?.candidates?.length).toBeGreaterThan(1);
  expect(web?.restoredTags ?? []).toEqual([]);
  expect(outcome.faulty.stdout).not.toContain('release-hotfix');
  expect(web?.deleted.map((entry) => entry.digest)).toContain(outcome.movedOnto);
}

/** The image a cosign signature (by its digest) signs, read from the signature's payload. */
async function signedImage(row: FaultRow, signatureDigest: string): Promise<string | null> {
  const manifest = await row.reader.manifest('app/web', signatureDigest);
  const payload = manifest.layers?.[0];
  if (payload === undefined) return null;
  const response = await fetch(new URL(`/v2/app/web/blobs/${payload.digest}`, row.registry.url));
  const body = (await response.json()) as { critical?: { image?: { 'docker-manifest-digest'?: string } } };
  return body.critical?.image?.['docker-manifest-digest'] ?? null;
}

async function fetchManifest(registryUrl: string, repository: string, digest: string) {
  const response = await fetch(new URL(`/v2/${repository}/manifests/${digest}`, registryUrl), {
    headers: {
      accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  if (!response.ok) throw new Error(`GET ${repository}@${digest}: ${response.status}`);
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    mediaType: response.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json',
  };
}

/** A protected tag moved or pushed at three points (issue 11, item 7). */
export const TAG_MOVE_ROWS: readonly MatrixRow[] = [
  tagMoveRow('before the first batch'),
  lostMoveRow('between batches'),
  lostMoveRow('within a batch'),
];

/**
 * SIGINT after the first index delete: the run says it is stopping, lets the deletes in flight
 * finish, starts no new one, writes its report and exits 130; what it left is finished next run.
 */
export const GRACEFUL_STOP_ROW: MatrixRow = {
  title: 'Ctrl-C after an index delete stops with 130 and a report, and the next run leaves nothing stranded',
  // Graceful stop has landed (faults.test.ts asserts that part); the followers it leaves need the journal.
  needs: ['journal'],
  async run(bench, row) {
    const stop = killCliAt(row, deleteOf('index', 1), { signal: 'SIGINT', when: 'after' });
    row.proxy.setHooks(stop);
    const faulty = await row.prune().done;
    const problemsAfterFaultyRun = await protectedTagProblems(row.reader, (await bench.reference()).protectedTags);
    const followUp = await row.cleanPrune();
    return { faultFired: stop.fired(), faulty, followUp, problemsAfterFaultyRun, invariants: await row.verify() };
  },
};

/** Extra assertions for GRACEFUL_STOP_ROW: exit 130, a stopping message, a report on stdout. */
export function expectGracefulStop(expect: ExpectStatic, outcome: MatrixOutcome): void {
  expect(outcome.faulty.code).toBe(130);
  expect(outcome.faulty.stderr).toMatch(/stopping/i);
  expect(reportOf(outcome.faulty).complete).toBe(false);
}

/**
 * A `RunLock` whose lease the test can lose at any moment (as when renewal fails past expiry, or
 * another run takes it over): from then on the handle's `heldFor` is false and `lostReason` says so,
 * as the real lease's (lib/lock/lock.ts `LeaseState`) does.
 */
export class LosableLock implements RunLock {
  private handle: (LockHandle & { lost: boolean }) | null = null;

  async acquire(key: string): Promise<LockHandle | null> {
    if (this.handle !== null && !this.handle.lost) return null;
    const handle = {
      key,
      lost: false,
      heldFor: () => !handle.lost,
      lostReason: () => (handle.lost ? 'the test took the lease away' : null),
      release: async () => undefined,
    };
    this.handle = handle;
    return handle;
  }

  /** The lease is gone from now on: no batch may start after this. */
  lose(): void {
    if (this.handle !== null) this.handle.lost = true;
  }
}

/**
 * Lease lost mid-run: the lock is lost at the first image DELETE (app/web, its signatures' batch
 * done). The run may finish the batch in flight but must start no other: every DELETE in
 * `deletesAfterLoss` must be an app/web image of that batch, and the rest must be reported as
 * pending, saying why.
 * `startLockedRun` runs a prune with `lock` against the row's config (the hosted run, through
 * whatever entry point takes an injected lock once item 4 lands) and resolves when it ends.
 */
export async function leaseLostMidRun(
  row: FaultRow,
  startLockedRun: (options: { configPath: string; lock: RunLock }) => Promise<void>,
): Promise<{ lostAtSeq: number | null; deletesAfterLoss: ProxiedRequest[] }> {
  const lock = new LosableLock();
  let lostAtSeq: number | null = null;
  row.proxy.setHooks({
    onRequest(request) {
      if (lostAtSeq === null && request.method === 'DELETE' && request.manifestKind === 'image') {
        lostAtSeq = request.seq;
        lock.lose();
      }
    },
  });
  await startLockedRun({ configPath: row.configPath, lock });
  const deletesAfterLoss = row.proxy.log
    .map((entry) => entry.request)
    .filter((request) => lostAtSeq !== null && request.method === 'DELETE' && request.seq > lostAtSeq);
  return { lostAtSeq, deletesAfterLoss };
}

/**
 * Faults the registry answers rather than a crash, where a follower's delete fails after its
 * parent's succeeded: the follower is then untagged and unreferenced, and no later run sees it.
 */
export const FOLLOWER_FAILURE_ROWS: readonly MatrixRow[] = [
  {
    title: 'after 500s on a share of the deletes of platform manifests, attestations and SBOMs, nothing stays stranded',
    needs: ['journal'],
    async run(bench, row) {
      row.proxy.setRules([
        {
          name: '500 on every 3rd follower delete',
          match: (request) => request.method === 'DELETE' && FOLLOWER_KINDS.includes(request.manifestKind ?? 'unknown'),
          pick: everyNth(3),
          fault: { kind: 'status', status: 500 },
        },
      ]);
      const faulty = await row.prune().done;
      const problemsAfterFaultyRun = await protectedTagProblems(row.reader, (await bench.reference()).protectedTags);
      const followUp = await row.cleanPrune();
      const faultFired = row.proxy.injected() > 0;
      return { faultFired, faulty, followUp, problemsAfterFaultyRun, invariants: await row.verify() };
    },
  },
  {
    title: 'a registry down for longer than the retries, just after an index delete, leaves nothing stranded',
    needs: ['journal'],
    async run(bench, row) {
      // Down from the first follower delete until the end of the run; up again for the clean run.
      let down = false;
      let stopping: Promise<void> | null = null;
      row.proxy.setHooks({
        async onRequest(request) {
          if (!down && request.method === 'DELETE' && FOLLOWER_KINDS.includes(request.manifestKind ?? 'unknown')) {
            down = true;
            // Down between requests: those in flight (other repositories run side by side) finish
            // first, and none starts meanwhile; a registry killed mid-DELETE is another fault.
            stopping = row.proxy.drained().then(() => row.registry.stop());
          }
          if (stopping !== null) await stopping;
        },
      });
      const faulty = await row.prune().done;
      await row.registry.start();
      const problemsAfterFaultyRun = await protectedTagProblems(row.reader, (await bench.reference()).protectedTags);
      const followUp = await row.cleanPrune();
      return { faultFired: down, faulty, followUp, problemsAfterFaultyRun, invariants: await row.verify() };
    },
  },
];

/** Every row of this file, for a table of outcomes. */
export const MATRIX_ROWS: readonly MatrixRow[] = [
  ...SIGKILL_ROWS,
  ...TAG_MOVE_ROWS,
  GRACEFUL_STOP_ROW,
  ...FOLLOWER_FAILURE_ROWS,
];
