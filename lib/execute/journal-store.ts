/**
 * The journal's records in the state store: one per run and repository, under the registry's lock
 * key, `journal/<lock key>/<repository>/<run id>`, so a run never overwrites what an earlier one
 * left. docs/design.md, "Crash".
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { keySegment, type StateStore, type StateWrite, versionOrThrow } from '../state/store.js';
import type { DeletionJournal, JournalFollower } from './journal.js';

const FollowerSchema = z.object({
  digest: z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/),
  tags: z.array(z.string()),
  action: z.literal('delete-manifest'),
  wave: z.number().int().nonnegative(),
  follows: z.string(),
});

/** One record: the followers a run had still to delete in one repository. */
export const JournalRecordSchema = z.object({
  version: z.literal(1),
  /** The registry's lock key (its normalized endpoint). */
  registry: z.string(),
  repository: z.string(),
  /** When the run that wrote it started (ISO 8601). */
  runStartedAt: z.string(),
  writtenAt: z.string(),
  followers: z.array(FollowerSchema),
});
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

/** Where a registry's records live: every key under it is one run's record for one repository. */
export function journalPrefix(lockKey: string): string {
  return `journal/${keySegment(lockKey)}/`;
}

/** The key of one run's record for one repository. */
export function journalKey(lockKey: string, repository: string, runId: string): string {
  return `${journalPrefix(lockKey)}${keySegment(repository)}/${runId}`;
}

/** A run id that sorts by start time and does not collide with a concurrent run's. */
export function newRunId(startedAt: Date): string {
  return `${startedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/** Writes a value under `key` whatever version it has now (a write of ours whose answer was lost). */
export async function putRecord(
  store: StateStore,
  key: string,
  text: string,
  knownVersion: string | undefined,
): Promise<string> {
  let write: StateWrite =
    knownVersion === undefined ? await store.create(key, text) : await store.replace(key, text, knownVersion);
  if (!write.ok) {
    const current = await store.read(key);
    write = current === null ? await store.create(key, text) : await store.replace(key, text, current.version);
  }
  return versionOrThrow(key, write);
}

/** This run's journal for one registry: `DeletionJournal` on a state store. */
export class StateJournal implements DeletionJournal {
  private readonly versions = new Map<string, string>();
  private readonly store: StateStore;
  private readonly lockKey: string;
  private readonly runId: string;
  private readonly runStartedAt: Date;
  private readonly clock: () => Date;
  /** State writes so far (the journal's cost, for benchmarks). */
  writes = 0;

  constructor(options: {
    store: StateStore;
    lockKey: string;
    runId: string;
    runStartedAt: Date;
    clock?: () => Date;
  }) {
    this.store = options.store;
    this.lockKey = options.lockKey;
    this.runId = options.runId;
    this.runStartedAt = options.runStartedAt;
    this.clock = options.clock ?? (() => new Date());
  }

  async write(repository: string, followers: readonly JournalFollower[]): Promise<void> {
    const key = journalKey(this.lockKey, repository, this.runId);
    const known = this.versions.get(key);
    this.writes++;
    if (followers.length === 0) {
      await this.store.delete(key);
      this.versions.delete(key);
      return;
    }
    const record: JournalRecord = {
      version: 1,
      registry: this.lockKey,
      repository,
      runStartedAt: this.runStartedAt.toISOString(),
      writtenAt: this.clock().toISOString(),
      followers: followers.map(({ digest, tags, action, wave, follows }) => ({
        digest,
        tags: [...tags],
        action,
        wave,
        follows,
      })),
    };
    this.versions.set(key, await putRecord(this.store, key, JSON.stringify(record), known));
  }
}
