/**
 * Deleting manifests by digest. Each request gets a result; only a
 * registry that cannot be reached or refuses our credentials altogether makes the call throw.
 */
import { mapUntilFailure } from '../../concurrency.js';
import { DeleteAbortedError, type DeleteRequest, type DeleteResult } from '../provider.js';
import { deleteScope } from './auth.js';
import type { OciClient, OciResponse } from './client.js';
import { registryErrorCode } from './registry-errors.js';

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;

/**
 * Statuses read here rather than raised: each is about one item. Retryable ones (429, 5xx) arrive
 * here only after the client's retries ran out.
 */
const PER_ITEM_STATUSES = [400, 401, 403, 404, 405, 409, 412, 429, 500, 502, 503, 504];

export interface DeleteContext {
  readonly client: OciClient;
  readonly registry: string;
  readonly repository: string;
  readonly concurrency: number;
}

/** Deletes each request with bounded concurrency; results keep the input order. */
export async function deleteAll(context: DeleteContext, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
  const { results, failure } = await mapUntilFailure(requests, context.concurrency, (request) =>
    deleteOne(context, request),
  );
  if (failure)
    throw new DeleteAbortedError(
      failure.error,
      results.filter((result) => result !== undefined),
    );
  return results as DeleteResult[];
}

async function deleteOne(context: DeleteContext, request: DeleteRequest): Promise<DeleteResult> {
  const { client, repository } = context;
  if (!DIGEST.test(request.digest)) {
    return { request, ok: false, error: `not a manifest digest: "${request.digest}"`, code: 'BAD_REQUEST' };
  }
  const response = await client.request({
    method: 'DELETE',
    path: `/v2/${repository}/manifests/${request.digest}`,
    scope: deleteScope(repository),
    passStatuses: PER_ITEM_STATUSES,
  });
  return resultOf(context, request, response);
}

function resultOf(context: DeleteContext, request: DeleteRequest, response: OciResponse): DeleteResult {
  const { registry, repository } = context;
  const status = response.status;
  const registryCode = registryErrorCode(response.body);
  const answered = `registry "${registry}" answered ${status}${registryCode ? ` ${registryCode}` : ''}`;
  const target = `${repository}@${request.digest}`;
  if (status >= 200 && status < 300) return { request, ok: true };
  // Already gone: a concurrent run, a person, or the deleted index took it. The goal is met.
  if (status === 404) return { request, ok: true, alreadyGone: true };
  if (status === 405) {
    return {
      request,
      ok: false,
      code: registryCode ?? '405',
      error:
        `cannot delete ${target}: ${answered}: deletes are disabled on this registry. Enable them (registry:2: ` +
        `storage.delete.enabled: true in its config, ` +
        'or REGISTRY_STORAGE_DELETE_ENABLED=true, then restart it). GHCR and Docker Hub do not delete through this ' +
        'API.',
    };
  }
  if (status === 401 || status === 403) {
    return {
      request,
      ok: false,
      code: registryCode ?? String(status),
      error:
        `cannot delete ${target}: ${answered}: the account may read but not delete here. Grant it delete on ` +
        `${repository} (token scope repository:${repository}:delete; Harbor: a role or robot permission with delete).`,
    };
  }
  if (status === 429) {
    return {
      request,
      ok: false,
      code: 'THROTTLED',
      error:
        `cannot delete ${target}: ${answered} after every retry. Lower concurrency for this registry and run ` +
        `again.`,
    };
  }
  if (status >= 500) {
    return {
      request,
      ok: false,
      code: registryCode ?? String(status),
      error:
        `cannot delete ${target}: ${answered} after every retry. Check the registry's health and logs, then run ` +
        `again.`,
    };
  }
  return { request, ok: false, code: registryCode ?? String(status), error: `cannot delete ${target}: ${answered}.` };
}
