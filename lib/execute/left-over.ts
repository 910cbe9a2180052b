/**
 * Tags a delete the registry did not finish left behind (docs/design.md, section 5, "Left-over
 * tags"): after each batch, `TagGuard.afterBatch` hands its listing here. Kept apart from the guard:
 * it only runs after a registry failed half-way through a delete.
 */
import { describeError } from '../errors.js';
import type { Inventory } from '../model.js';
import type { DeleteDecision } from '../plan/types.js';
import type { DeleteRequest, Provider } from '../providers/provider.js';
import { protectedBy } from './guard.js';

/** What the repair of left-over tags after a batch needs from the executor. */
export interface LeftOverRepair {
  /** Digests whose delete the registry answered "not found" in this run. */
  readonly goneAlready: ReadonlySet<string>;
  /** Why no write may be sent now (a stop, a lost lock), or null. */
  readonly mayWrite: () => string | null;
}

/** What a check after a batch found and did. */
export interface AfterBatch {
  /** Planned deletions the restored tags (and what their manifests reference) now protect: digest → why. */
  readonly protectedDigests: Map<string, string>;
  /** Digests this run deleted that a tag was put back onto (they exist again): digest → its restored tags. */
  readonly restoredDigests: Map<string, string[]>;
  readonly warnings: string[];
}

/** The guard's state the repair reads, and updates (a tag found on a manifest it keeps becomes protected). */
export interface LeftOverGuard {
  readonly provider: Provider;
  readonly inventory: Inventory;
  readonly deletions: readonly DeleteDecision[];
  /** Protected tag → where it pointed when last seen. */
  readonly protectedTags: Map<string, string | null>;
  readonly knownTags: Set<string>;
}

/** What the repair found and did; `deletedAgain` when it sent a delete after the batch's listing. */
export interface LeftOverResult extends AfterBatch {
  readonly deletedAgain: boolean;
}

/**
 * Tags a DELETE the registry did not finish left behind (docs/design.md, section 5, "Left-over
 * tags"). Registry 2.8 removes the manifest, then untags it tag by tag: killed in between, the
 * retried DELETE answers 404 and untags nothing, and the tags left list but answer 404. Suspects: a
 * planned tag of a digest this batch deleted that the listing still shows, and, once a delete of
 * the batch answered 404, every listed protected or new tag. Those answering 404 are left over: the
 * digests they may name are re-created (`Provider.recreateManifest`), so each names its manifest
 * again. A manifest a protected or new tag names then stays (restored, like a tag put back); the
 * rest is deleted again, which removes its left-over tags. No call where every delete finished.
 */
export async function repairLeftOverTags(
  guard: LeftOverGuard,
  deleted: readonly string[],
  present: ReadonlySet<string>,
  isDeleted: (digest: string) => boolean,
  repair: LeftOverRepair,
): Promise<LeftOverResult> {
  const none: LeftOverResult = {
    protectedDigests: new Map(),
    restoredDigests: new Map(),
    warnings: [],
    deletedAgain: false,
  };
  if (guard.provider.recreateManifest === undefined || deleted.length === 0) return none;
  const planned = new Map(guard.deletions.map((decision) => [decision.digest, decision]));
  /** Suspect tag → the digest it was planned with (null: a protected or new tag, on any of `answered404`). */
  const suspects = new Map<string, string | null>();
  for (const digest of deleted) {
    for (const tag of planned.get(digest)?.tags ?? []) if (present.has(tag)) suspects.set(tag, digest);
  }
  const answered404 = deleted.filter((digest) => repair.goneAlready.has(digest));
  if (answered404.length > 0) {
    for (const tag of present) {
      if (!suspects.has(tag) && (guard.protectedTags.has(tag) || !guard.knownTags.has(tag))) suspects.set(tag, null);
    }
  }
  if (suspects.size === 0) return none;
  const repository = guard.inventory.repository;
  const recreated = new Set<string>();
  const redeleted = new Set<string>();
  const warnings: string[] = [];
  let deletedAgain = false;
  try {
    const resolved = await guard.provider.resolveTags(repository, [...suspects.keys()]);
    const dangling = [...suspects.keys()].filter((tag) => (resolved.get(tag) ?? null) === null);
    if (dangling.length === 0) return none;
    const targets = new Set<string>();
    for (const tag of dangling) {
      const digest = suspects.get(tag) ?? null;
      if (digest !== null) targets.add(digest);
      else for (const candidate of answered404) targets.add(candidate);
    }
    const stop = repair.mayWrite();
    if (stop !== null) {
      return { ...none, warnings: [`tags ${quoted(dangling)} name deleted manifests; not repaired: ${stop}`] };
    }
    // One that exists now is not half-deleted: a tag was put back onto it, or it was pushed again.
    const exists = await guard.provider.resolveTags(repository, [...targets]);
    for (const digest of targets) {
      if ((exists.get(digest) ?? null) !== null) continue;
      try {
        await guard.provider.recreateManifest(repository, digest);
        recreated.add(digest);
      } catch (error) {
        warnings.push(
          `could not re-create ${digest} to look for tags its half-done delete left (${describeError(error)}); ` +
            `tags ${quoted(dangling)} answer 404. To remove one, push any image under it and delete that image ` +
            'by digest.',
        );
      }
    }
    if (recreated.size === 0) return { ...none, warnings };
    // Re-created, each names again every tag that was left on it.
    const now = await guard.provider.resolveTags(repository, dangling);
    const keptBy = new Map<string, string[]>();
    const removed = new Map<string, string[]>();
    for (const tag of dangling) {
      const digest = now.get(tag) ?? null;
      if (digest === null || !recreated.has(digest)) {
        warnings.push(`tag "${tag}" answers 404 and names none of the manifests this run deleted; left as it is`);
        continue;
      }
      const keeps = guard.protectedTags.has(tag) || !guard.knownTags.has(tag);
      const into = keeps ? keptBy : removed;
      into.set(digest, [...(into.get(digest) ?? []), tag]);
      if (keeps) {
        guard.knownTags.add(tag);
        guard.protectedTags.set(tag, digest);
      }
    }
    const again: DeleteRequest[] = [...recreated]
      .filter((digest) => !keptBy.has(digest))
      .map((digest) => ({ digest, tags: [], action: planned.get(digest)!.action }));
    if (again.length > 0) deletedAgain = true;
    for (const result of again.length > 0 ? await guard.provider.delete(repository, again) : []) {
      const { digest } = result.request;
      const left = removed.get(digest) ?? [];
      if (result.ok) {
        redeleted.add(digest);
        if (left.length === 0) continue;
        warnings.push(
          `tag(s) ${quoted(left)} still named ${digest} after it was deleted (the registry did not finish that ` +
            'delete: restarted or killed?); it was re-created and deleted again, which removed them',
        );
      } else {
        const then =
          left.length > 0
            ? `its tags ${quoted(left)} name it again, so the next run deletes it`
            : 'it is untagged, and `registry garbage-collect --delete-untagged` removes it';
        warnings.push(
          `${digest} was re-created to remove tags its half-done delete left, and deleting it again failed ` +
            `(${result.error}): it exists again and is reported kept; ${then}`,
        );
      }
    }
    for (const [digest, tags] of keptBy) {
      warnings.push(
        `tag(s) ${quoted(tags)} were on ${digest} when the registry failed to finish deleting it; it was ` +
          're-created and is kept',
      );
    }
  } catch (error) {
    warnings.push(
      `tags ${quoted([...suspects.keys()])} may name manifests this run deleted, and checking or repairing them ` +
        `failed (${describeError(error)}). If one answers 404, push any image under it and delete that image by ` +
        'digest.',
    );
  }
  // What was re-created and not deleted again exists: it is kept, with what it references.
  const standing = new Map<string, string[]>();
  for (const digest of recreated) {
    if (redeleted.has(digest)) continue;
    const tags = [...guard.protectedTags].filter(([, target]) => target === digest).map(([tag]) => tag);
    standing.set(digest, tags);
  }
  const restoredDigests = new Map([...standing].filter(([digest]) => isDeleted(digest)));
  const protectedDigests = await protectedBy(standing, guard.provider, guard.inventory, guard.deletions);
  return { protectedDigests, restoredDigests, warnings, deletedAgain };
}

/** `"a", "b"`. */
function quoted(tags: readonly string[]): string {
  return tags.map((tag) => `"${tag}"`).join(', ');
}
