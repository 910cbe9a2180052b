/**
 * Deletion through BatchDeleteImage: image ids in batches of ≤ 100, each `failures[]` entry handled
 * by its code; tagged manifests by tag, untagged ones by digest.
 */
import { mapUntilFailure } from '../../concurrency.js';
import { DeleteAbortedError, type DeleteRequest, type DeleteResult } from '../provider.js';

/** BatchDeleteImage takes at most 100 image ids per call. // API limit */
export const ECR_BATCH_DELETE_MAX = 100;

/**
 * One image id of BatchDeleteImage: a tag alone (that tag goes; the image goes with its last tag)
 * or a digest alone (the image and every tag on it). Never both in one id (REGISTRY-FACTS).
 */
export type EcrImageId = { readonly imageTag: string } | { readonly imageDigest: string };

export interface EcrBatchFailure {
  readonly imageId: { imageDigest?: string | undefined; imageTag?: string | undefined };
  readonly code: string;
  readonly reason: string;
}

/** One BatchDeleteImage call: what ECR confirmed deleted and what it refused. */
export type SendDeleteBatch = (imageIds: readonly EcrImageId[]) => Promise<{
  deleted: readonly { imageDigest?: string | undefined; imageTag?: string | undefined }[];
  failures: readonly EcrBatchFailure[];
}>;

/**
 * A tagged manifest goes by its tags, so a tag someone moves onto it during the run keeps it
 * (docs/design.md, section 5); an untagged one (index child, referrer) by its digest.
 */
function idsOf(request: DeleteRequest): EcrImageId[] {
  return request.tags.length > 0 ? request.tags.map((imageTag) => ({ imageTag })) : [{ imageDigest: request.digest }];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function keyOf(id: { imageDigest?: string | undefined; imageTag?: string | undefined }): string {
  return id.imageTag !== undefined ? `tag:${id.imageTag}` : `digest:${id.imageDigest ?? ''}`;
}

/**
 * A tag ECR deleted from another image than the planned one: it was pushed again between the last
 * check and the delete (docs/design.md, section 5), and `BatchDeleteImage` by tag takes it wherever it
 * points. Said loudly (a failure, exit 1): if it was that image's last tag, ECR deleted the image.
 */
function pushedAgainFailure(tag: string, request: DeleteRequest, deletedFrom: string): EcrBatchFailure {
  return {
    imageId: { imageTag: tag, imageDigest: deletedFrom },
    code: 'TagPushedAgain',
    reason:
      `tag "${tag}" was pushed again onto ${deletedFrom} during the run, and deleting it by name took it from ` +
      `there; if it was that image's only tag, ECR deleted the image: push ${deletedFrom} again under "${tag}" ` +
      `(its layers stay while another image shares them). The planned ${request.digest} is counted as not ` +
      'deleted; the next run sees whatever is left of it',
  };
}

function failureMessage(failure: EcrBatchFailure, request: DeleteRequest): string {
  const what =
    failure.imageId.imageTag !== undefined ? `tag ${failure.imageId.imageTag} of ${request.digest}` : request.digest;
  switch (failure.code) {
    case 'TagPushedAgain':
      return `ECR: ${failure.reason}`;
    case 'ImageReferencedByManifestList':
      return (
        `ECR refused to delete ${what}: a multi-arch index still lists it (ImageReferencedByManifestList); it ` +
        `goes once its index is deleted`
      );
    default:
      return `ECR refused to delete ${what} (${failure.code}: ${failure.reason})`;
  }
}

/** Runs one round of batches and sorts each request into done, retry-later, or failed. */
async function deleteRound(
  requests: readonly DeleteRequest[],
  send: SendDeleteBatch,
  concurrency: number,
): Promise<{ results: Map<DeleteRequest, DeleteResult>; referenced: DeleteRequest[] }> {
  const results = new Map<DeleteRequest, DeleteResult>();
  const referenced: DeleteRequest[] = [];
  const pairs = requests.flatMap((request) => idsOf(request).map((id) => ({ request, id })));
  /** Per request: how each of its ids ended ('deleted', 'gone', or the failure). */
  const ends = new Map<DeleteRequest, Array<'deleted' | 'gone' | 'unconfirmed' | EcrBatchFailure>>();
  const { failure } = await mapUntilFailure(chunks(pairs, ECR_BATCH_DELETE_MAX), concurrency, async (batch) => {
    const response = await send(batch.map((pair) => pair.id));
    const deleted = new Set(response.deleted.map(keyOf));
    // Deleting a tag reports the tag with its digest: match a tag id by its tag.
    const deletedFrom = new Map<string, string>();
    for (const id of response.deleted) {
      if (id.imageDigest !== undefined) deleted.add(`digest:${id.imageDigest}`);
      if (id.imageTag !== undefined && id.imageDigest !== undefined) deletedFrom.set(id.imageTag, id.imageDigest);
    }
    const failures = new Map(response.failures.map((f) => [keyOf(f.imageId), f]));
    for (const { request, id } of batch) {
      const key = keyOf(id);
      const tag = 'imageTag' in id ? id.imageTag : undefined;
      const from = tag === undefined ? undefined : deletedFrom.get(tag);
      const failed =
        failures.get(key) ??
        (tag !== undefined && from !== undefined && from !== request.digest
          ? pushedAgainFailure(tag, request, from)
          : undefined);
      const end =
        failed?.code === 'ImageNotFound' ? 'gone' : failed ? failed : deleted.has(key) ? 'deleted' : 'unconfirmed';
      ends.set(request, [...(ends.get(request) ?? []), end]);
    }
  });
  for (const [request, outcomes] of ends) {
    const refused = outcomes.find((end) => typeof end === 'object');
    if (typeof refused === 'object') {
      if (refused.code === 'ImageReferencedByManifestList') referenced.push(request);
      results.set(request, { request, ok: false, error: failureMessage(refused, request), code: refused.code });
    } else if (outcomes.length < idsOf(request).length) {
      // Its tags spanned calls and ECR failed before the last of them went: the image is still there
      // under the tags not sent, so it is not deleted, whatever the sent ones did.
      results.set(request, {
        request,
        ok: false,
        error:
          `ECR failed before every tag of ${request.digest} was sent; it keeps the tags not sent and the next ` +
          'run deletes it',
        code: 'NotAttempted',
      });
    } else if (outcomes.includes('unconfirmed')) {
      results.set(request, {
        request,
        ok: false,
        error: `ECR neither confirmed nor refused deleting ${request.digest}; the next run checks again`,
        code: 'Unconfirmed',
      });
    } else if (outcomes.every((end) => end === 'gone')) {
      // Gone already (a concurrent run, a lifecycle policy, or its index took it): the goal holds.
      results.set(request, { request, ok: true, alreadyGone: true });
    } else results.set(request, { request, ok: true });
  }
  if (failure) throw new DeleteAbortedError(failure.error, [...results.values()]);
  return { results, referenced };
}

/**
 * Deletes in batches of ≤ 100. A child refused because an index still lists it is retried once,
 * after every other batch: its index may have gone in the same call.
 */
export async function deleteInBatches(
  requests: readonly DeleteRequest[],
  send: SendDeleteBatch,
  concurrency: number,
): Promise<DeleteResult[]> {
  const first = await deleteRound(requests, send, concurrency);
  if (first.referenced.length > 0) {
    try {
      const retry = await deleteRound(first.referenced, send, concurrency);
      for (const [request, result] of retry.results) first.results.set(request, result);
    } catch (error) {
      // The first round's deletions happened: report them with whatever the retry finished.
      const retried = error instanceof DeleteAbortedError ? error.results : [];
      for (const result of retried) first.results.set(result.request, result);
      throw new DeleteAbortedError(error instanceof DeleteAbortedError ? error.failure : error, [
        ...first.results.values(),
      ]);
    }
  }
  return requests.map((request) => first.results.get(request)!);
}
