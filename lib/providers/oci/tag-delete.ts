/**
 * Distribution's tag delete (`DELETE /v2/<name>/manifests/<tag>`: OCI 1.1, distribution v3, zot,
 * Harbor), probed once per registry, and deletion by tag where it works (docs/design.md, section 5):
 * a tagged manifest loses its planned tags one by one, and is deleted by digest only when no other
 * tag is then seen on it, as on ACR. Registry 2.8 has no tag delete: there a digest delete takes
 * every tag on the manifest, and the executor's restore is what closes the window.
 */
import { randomBytes } from 'node:crypto';
import { mapUntilFailure } from '../../concurrency.js';
import { describeError } from '../../errors.js';
import { DeleteAbortedError, type DeleteRequest, type DeleteResult } from '../provider.js';
import { deleteScope } from './auth.js';
import type { OciClient } from './client.js';
import { type DeleteContext, deleteAll } from './delete.js';
import { registryErrorCode } from './registry-errors.js';

/** A tag no one pushes: the probe asks the registry to delete it (with a random tail, so it never exists). */
export const TAG_DELETE_PROBE_PREFIX = 'regprune-tag-delete-probe-';

/**
 * True when the registry deletes a tag alone. The probe deletes a tag that does not exist: a
 * registry with tag delete answers 404 (distribution v3, zot, Harbor: MANIFEST_UNKNOWN) or 202;
 * registry 2.8 reads the reference as a digest and answers 400 DIGEST_INVALID (measured on
 * Debian's docker-registry 2.8); deletes disabled answer 405. Anything else counts as "no".
 */
export async function probeTagDelete(client: OciClient, repository: string): Promise<boolean> {
  const tag = `${TAG_DELETE_PROBE_PREFIX}${randomBytes(8).toString('hex')}`;
  const response = await client.request({
    method: 'DELETE',
    path: `/v2/${repository}/manifests/${tag}`,
    scope: deleteScope(repository),
    passStatuses: [400, 401, 403, 404, 405, 409, 412, 500, 501],
  });
  return response.status === 404 || (response.status >= 200 && response.status < 300);
}

export interface TagDeleteContext extends DeleteContext {
  /** Every tag of the repository seen so far (listings of this run): only tags beyond these are resolved. */
  readonly knownTags: Set<string>;
  /** Lists the repository's tag names (one call per page); adds nothing to `knownTags`. */
  listTags(): Promise<readonly string[]>;
  /** Where each tag points now (a HEAD each); null for a tag that is gone. */
  resolve(tags: readonly string[]): Promise<Map<string, string | null>>;
}

type TagOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly code: string };

/**
 * Deletes each tagged request's planned tags by name (only a tag that still points at it: one moved
 * onto another manifest would be taken from there), then lists the tags once and resolves the new
 * ones; a manifest a new tag points at is kept (`stillTaggedBy`), the rest are deleted by digest.
 */
export async function deleteByTag(
  context: TagDeleteContext,
  requests: readonly DeleteRequest[],
): Promise<DeleteResult[]> {
  const planned = [...new Set(requests.flatMap((request) => request.tags))];
  const targets = planned.length > 0 ? await abortOnFailure(() => context.resolve(planned)) : new Map();
  const sendable = planned.filter((tag) => requests.some((r) => r.tags.includes(tag) && targets.get(tag) === r.digest));
  const tagDeletes = await mapUntilFailure(sendable, context.concurrency, (tag) => deleteTag(context, tag));
  if (tagDeletes.failure) throw new DeleteAbortedError(tagDeletes.failure.error, []);
  const tagFailures = new Map<string, TagOutcome & { ok: false }>();
  for (const [at, outcome] of tagDeletes.results.entries())
    if (outcome && !outcome.ok) tagFailures.set(sendable[at]!, outcome);

  // The untagged check: a tag that appeared since the last listing may point at a manifest of this batch.
  const listed = await abortOnFailure(() => context.listTags());
  const fresh = listed.filter((tag) => !context.knownTags.has(tag));
  for (const tag of listed) context.knownTags.add(tag);
  const freshTargets = fresh.length > 0 ? await abortOnFailure(() => context.resolve(fresh)) : new Map();
  const stillTagged = new Map<string, string[]>();
  for (const [tag, digest] of freshTargets)
    if (digest) stillTagged.set(digest, [...(stillTagged.get(digest) ?? []), tag]);

  const settled = new Map<DeleteRequest, DeleteResult>();
  const byDigest: DeleteRequest[] = [];
  for (const request of requests) {
    const failed = request.tags.map((tag) => tagFailures.get(tag)).find((outcome) => outcome !== undefined);
    const taggedBy = stillTagged.get(request.digest);
    if (failed) settled.set(request, { request, ok: false, error: failed.error, code: failed.code });
    else if (taggedBy) settled.set(request, { request, ok: true, stillTaggedBy: taggedBy });
    else byDigest.push(request);
  }
  const inOrder = (results: readonly DeleteResult[]) => {
    for (const result of results) settled.set(result.request, result);
    return requests.map((request) => settled.get(request)).filter((result) => result !== undefined);
  };
  try {
    return inOrder(await deleteAll(context, byDigest));
  } catch (error) {
    if (error instanceof DeleteAbortedError) throw new DeleteAbortedError(error.failure, inOrder(error.results));
    throw error;
  }
}

async function deleteTag(context: TagDeleteContext, tag: string): Promise<TagOutcome> {
  const { client, repository, registry } = context;
  const response = await client.request({
    method: 'DELETE',
    path: `/v2/${repository}/manifests/${encodeURIComponent(tag)}`,
    scope: deleteScope(repository),
    passStatuses: [400, 403, 404, 405, 409, 412, 429, 500, 502, 503, 504],
  });
  // 404: gone already (deleted or moved by someone else); the goal is met.
  if (response.status === 404 || (response.status >= 200 && response.status < 300)) return { ok: true };
  const code = registryErrorCode(response.body) ?? String(response.status);
  return {
    ok: false,
    code,
    error:
      `cannot delete tag ${repository}:${tag}: registry "${registry}" answered ${response.status} ${code}; the ` +
      'manifest was not deleted. Check the registry, then run again.',
  };
}

/** A listing or resolution that fails mid-batch: nothing was deleted by digest, so no result is final. */
async function abortOnFailure<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new DeleteAbortedError(error, []);
  }
}

/** Words a failed probe for the log. */
export function probeFailure(registry: string, error: unknown): string {
  return `registry "${registry}": could not probe for tag delete (${describeError(error)}); deleting by digest`;
}
