/**
 * Finishes what interrupted runs left in a registry's journal (docs/design.md, "Crash"): every run
 * does this first, under the registry's lock. Each repository with records is listed again; a
 * follower that the listing now reaches (a tag, or a manifest a tag reaches, references it) is left
 * to the plan and struck off with a warning; the rest, unreachable and invisible to the listing,
 * is deleted in wave order. A follower whose delete fails stays on record for the next run.
 */
import { chunk } from '../concurrency.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Image } from '../model.js';
import { buildReferenceGraph } from '../plan/references.js';
import type { DeleteDecision } from '../plan/types.js';
import { groupByWave } from '../plan/waves.js';
import { DeleteAbortedError, type DeleteResult, type Provider } from '../providers/provider.js';
import type { JournalFinished } from '../report/types.js';
import { readJson, type StateStore } from '../state/store.js';
import { type JournalRecord, JournalRecordSchema, journalPrefix, putRecord } from './journal-store.js';
import type { JournalFollower } from './journal.js';

export interface JournalRecoveryOptions {
  readonly store: StateStore;
  /** The registry's lock key: its records are under `journal/<lock key>/`. */
  readonly lockKey: string;
  readonly provider: Provider;
  /** Report what would be finished; delete and rewrite nothing. */
  readonly dryRun: boolean;
  readonly log: Logger;
}

interface ReadRecord {
  readonly key: string;
  readonly version: string;
  readonly record: JournalRecord;
}

/** Finishes the registry's journal; one entry per repository that had records. Never throws. */
export async function finishJournal(options: JournalRecoveryOptions): Promise<JournalFinished[]> {
  const { store, lockKey, log } = options;
  let keys: string[];
  try {
    keys = await store.list(journalPrefix(lockKey));
  } catch (error) {
    log.warn(`could not read the journal in ${store.location}: ${describeError(error)}; it is finished next run`);
    return [];
  }
  const byRepository = new Map<string, ReadRecord[]>();
  for (const key of keys) {
    const read = await readRecord(store, key, log);
    if (read === null) continue;
    byRepository.set(read.record.repository, [...(byRepository.get(read.record.repository) ?? []), read]);
  }
  const finished: JournalFinished[] = [];
  for (const [repository, records] of byRepository) {
    finished.push(await finishRepository(repository, records, options));
  }
  return finished;
}

async function readRecord(store: StateStore, key: string, log: Logger): Promise<ReadRecord | null> {
  try {
    const read = await readJson(store, key);
    if (read === null) return null; // cleared since the listing
    const parsed = JournalRecordSchema.safeParse(read.value);
    if (parsed.success) return { key, version: read.version, record: parsed.data };
    log.warn(`journal record ${key} in ${store.location} is not one this version reads; left as it is`);
  } catch (error) {
    log.warn(`could not read journal record ${key} in ${store.location}: ${describeError(error)}`);
  }
  return null;
}

async function finishRepository(
  repository: string,
  records: readonly ReadRecord[],
  options: JournalRecoveryOptions,
): Promise<JournalFinished> {
  const { provider, dryRun, log } = options;
  const report: JournalFinished = { repository, finished: [], failed: [], warnings: [] };
  const followers = new Map<string, JournalFollower>();
  for (const { record } of records) for (const follower of record.followers) followers.set(follower.digest, follower);

  let images: readonly Image[];
  try {
    images = (await provider.listInventory(repository)).images;
  } catch (error) {
    report.warnings.push(
      `${followers.size} manifest(s) an interrupted run left to delete were not finished: could not list ` +
        `${repository} to re-check them (${describeError(error)}); the next run tries again`,
    );
    return report;
  }
  const reached = reachedDigests(images);
  const toDelete: DeleteDecision[] = [];
  const settled = new Set<string>();
  for (const follower of followers.values()) {
    if (reached.has(follower.digest)) {
      report.warnings.push(
        `${follower.digest} (left to delete by an interrupted run after ${follower.follows}) is referenced again ` +
          'by a tag or a tagged manifest: not deleted; this run plans it like any other manifest',
      );
      settled.add(follower.digest);
    } else {
      // By digest alone: nothing reaches it, so no tag is on it now, and the tags it had when it was
      // recorded may name other manifests since. ECR and ACR delete a tag wherever it points: sent by
      // tag, such a follower would take a tag (and on ECR its image, if that was its last tag) from
      // whatever was pushed under it meanwhile. The report names the tags it was recorded with.
      toDelete.push({ digest: follower.digest, tags: [], action: follower.action, wave: follower.wave });
    }
  }
  if (dryRun) {
    report.finished.push(
      ...toDelete.map(({ digest, action }) => ({ digest, tags: followers.get(digest)?.tags ?? [], action })),
    );
  } else {
    for (const wave of groupByWave([...toDelete].sort((a, b) => a.wave - b.wave || a.digest.localeCompare(b.digest))))
      for (const batch of chunk(wave, provider.maxDeleteBatch)) {
        for (const result of await deleteBatch(provider, repository, batch)) {
          const { digest, action } = result.request;
          const tags = followers.get(digest)?.tags ?? [];
          if (result.ok) {
            report.finished.push({ digest, tags, action });
            settled.add(digest);
          } else report.failed.push({ digest, tags, error: result.error });
        }
      }
    await rewrite(records, settled, options);
  }
  for (const warning of report.warnings) log.warn(`${repository}: ${warning}`);
  if (report.finished.length > 0) {
    log.warn(
      `${repository}: ${dryRun ? 'would finish' : 'finished'} ${report.finished.length} deletion(s) an interrupted ` +
        'run left behind (recorded in the journal)',
    );
  }
  for (const failed of report.failed)
    log.warn(`${repository}: could not delete ${failed.digest} left by an interrupted run: ${failed.error}`);
  return report;
}

/** One provider call; a registry that fails as a whole fails the requests it did not finish. */
async function deleteBatch(provider: Provider, repository: string, batch: readonly DeleteDecision[]) {
  try {
    return await provider.delete(repository, batch);
  } catch (error) {
    const done: readonly DeleteResult[] = error instanceof DeleteAbortedError ? error.results : [];
    const failure = describeError(error instanceof DeleteAbortedError ? error.failure : error);
    return batch.map(
      (request): DeleteResult =>
        done.find((result) => result.request.digest === request.digest) ?? { request, ok: false, error: failure },
    );
  }
}

/** Strikes what is settled off each record; a record left empty is removed. */
async function rewrite(
  records: readonly ReadRecord[],
  settled: ReadonlySet<string>,
  options: JournalRecoveryOptions,
): Promise<void> {
  const { store, log } = options;
  for (const { key, version, record } of records) {
    const left = record.followers.filter((follower) => !settled.has(follower.digest));
    try {
      if (left.length === 0) await store.delete(key, version);
      else if (left.length < record.followers.length)
        await putRecord(store, key, JSON.stringify({ ...record, followers: left }), version);
    } catch (error) {
      log.warn(`could not update journal record ${key}: ${describeError(error)}; the next run re-checks it`);
    }
  }
}

/** Digests the listing reaches from a tag: tagged manifests, and through children, subjects and referrers. */
function reachedDigests(images: readonly Image[]): Set<string> {
  const { graph } = buildReferenceGraph(images);
  const seen = new Uint8Array(graph.digests.length);
  const queue: number[] = [];
  for (let at = 0; at < graph.digests.length; at++) {
    if (graph.tags[at]!.length > 0) {
      seen[at] = 1;
      queue.push(at);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head]!;
    const next: number[] = [];
    for (let e = graph.refFrom[at]!; e < graph.refTo[at]!; e++) next.push(graph.refs[e]!);
    for (let e = graph.referrerStart[at]!; e < graph.referrerStart[at + 1]!; e++) next.push(graph.referrers[e]!);
    for (const target of next) {
      if (seen[target] === 1) continue;
      seen[target] = 1;
      queue.push(target);
    }
  }
  return new Set(graph.digests.filter((_, at) => seen[at] === 1));
}
