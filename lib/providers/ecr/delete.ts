/**
 * Deletion through BatchDeleteImage: requests in batches of ≤ 100, each `failures[]` entry handled
 * by its code, by digest (the whole manifest goes, with its tags).
 */
import { mapUntilFailure } from '../../concurrency.js';
import { DeleteAbortedError, type DeleteRequest, type DeleteResult } from '../provider.js';

/** BatchDeleteImage takes at most 100 image ids per call. // API limit */
export const ECR_BATCH_DELETE_MAX = 100;

export interface EcrImageId {
  readonly imageDigest: string;
}

export interface EcrBatchFailure {
  readonly imageId: { imageDigest?: string | undefined };
  readonly code: string;
  readonly reason: string;
}

/** One BatchDeleteImage call: what ECR confirmed deleted and what it refused. */
export type SendDeleteBatch = (imageIds: readonly EcrImageId[]) => Promise<{
  deleted: readonly { imageDigest?: string | undefined }[];
  failures: readonly EcrBatchFailure[];
}>;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function failureMessage(failure: EcrBatchFailure, request: DeleteRequest): string {
  const what = request.digest;
  switch (failure.code) {
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
  const { failure } = await mapUntilFailure(chunks(requests, ECR_BATCH_DELETE_MAX), concurrency, async (batch) => {
    const response = await send(batch.map((request) => ({ imageDigest: request.digest })));
    const deletedDigests = new Set(response.deleted.map((id) => id.imageDigest));
    const failures = new Map(response.failures.map((f) => [f.imageId.imageDigest, f]));
    for (const request of batch) {
      const failure = failures.get(request.digest);
      if (failure?.code === 'ImageNotFound') {
        // Gone already (a concurrent run, a lifecycle policy, or its index took it): the goal holds.
        results.set(request, { request, ok: true, alreadyGone: true });
      } else if (failure?.code === 'ImageReferencedByManifestList') {
        referenced.push(request);
        results.set(request, { request, ok: false, error: failureMessage(failure, request), code: failure.code });
      } else if (failure) {
        results.set(request, { request, ok: false, error: failureMessage(failure, request), code: failure.code });
      } else if (deletedDigests.has(request.digest)) {
        results.set(request, { request, ok: true });
      } else {
        results.set(request, {
          request,
          ok: false,
          error: `ECR neither confirmed nor refused deleting ${request.digest}; the next run checks again`,
          code: 'Unconfirmed',
        });
      }
    }
  });
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
