/**
 * A provider that forwards every call to a real one, except the calls a test or benchmark wants
 * to see (to time them, or to change the registry between two of them).
 */
import type { Provider } from '../../lib/providers/provider.js';

type Calls = Pick<
  Provider,
  'listRepositories' | 'listInventory' | 'listImages' | 'listTags' | 'resolveTags' | 'delete'
>;

export function intercept(inner: Provider, overrides: Partial<Calls>): Provider {
  return {
    kind: inner.kind,
    name: inner.name,
    maxDeleteBatch: inner.maxDeleteBatch,
    get stats() {
      return inner.stats;
    },
    listRepositories: overrides.listRepositories ?? (() => inner.listRepositories()),
    listInventory: overrides.listInventory ?? ((repository) => inner.listInventory(repository)),
    listImages: overrides.listImages ?? ((repository) => inner.listImages(repository)),
    listTags: overrides.listTags ?? ((repository) => inner.listTags(repository)),
    resolveTags: overrides.resolveTags ?? ((repository, tags) => inner.resolveTags(repository, tags)),
    delete: overrides.delete ?? ((repository, requests) => inner.delete(repository, requests)),
    // What the inner provider can do beyond the calls above, it still does.
    ...(inner.restoreTag
      ? { restoreTag: (repository, tag, digest) => inner.restoreTag!(repository, tag, digest) }
      : {}),
    ...(inner.recreateManifest
      ? { recreateManifest: (repository, digest) => inner.recreateManifest!(repository, digest) }
      : {}),
    close: async () => inner.close?.(),
  };
}
