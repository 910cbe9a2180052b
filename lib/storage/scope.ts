/** Where each registry stores a blob once: the scope within which bytes are deduplicated. */
import { assertNever } from '../errors.js';
import type { ProviderKind } from '../providers/provider.js';
import type { DedupScope } from './types.js';

/**
 * Whether a provider's listing sees every manifest, untagged ones included.
 * - oci: the distribution API lists tags only (`/v2/<name>/tags/list`); an untagged manifest that
 *   no tagged index or referrer reaches cannot be found (registry:2, Harbor, zot).
 * - acr: `GET /acr/v1/<name>/_manifests` lists every manifest, tagged or not.
 * - ecr: `DescribeImages` lists untagged images (`tagStatus: UNTAGGED`).
 */
export function listsUntaggedManifests(provider: ProviderKind): boolean {
  return provider !== 'oci';
}

/**
 * The dedup scope of a provider.
 * - oci: registry:2 keeps every blob once under `docker/registry/v2/blobs`, and
 *   `garbage-collect` marks blobs from the manifests of every repository before sweeping.
 * - acr: "If the layers referenced by the deleted manifest are not referenced by any other images
 *   in the registry, their layer data is also deleted" (learn.microsoft.com, container-registry-delete).
 * - ecr: layers are stored per repository; a layer pushed to two repositories is uploaded and
 *   billed twice (aws/containers-roadmap#531).
 */
export function dedupScopeOf(provider: ProviderKind): DedupScope {
  switch (provider) {
    case 'oci':
    case 'acr':
      return 'registry';
    case 'ecr':
      return 'repository';
    default:
      return assertNever(provider);
  }
}
