/**
 * A provider that forwards every call to a real one, except the calls a test or benchmark wants
 * to see (to time them, or to change the registry between two of them).
 */
import type { RegistryConfig } from '../../lib/config/schema.js';
import { createProvider } from '../../lib/providers/index.js';
import type { Provider } from '../../lib/providers/provider.js';

export type InterceptedCalls = Pick<
  Provider,
  'listRepositories' | 'listInventory' | 'listImages' | 'listTags' | 'resolveTags' | 'delete'
>;

export function intercept(inner: Provider, overrides: Partial<InterceptedCalls>): Provider {
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

/**
 * `prune()`'s `providerFor` for one OCI registry whose calls a test wants to step into: the real
 * provider, with `overrides(inner)` in front.
 */
export async function realProviderWith(
  registry: RegistryConfig,
  overrides: (inner: Provider) => Partial<InterceptedCalls>,
): Promise<Provider> {
  const inner = await createProvider(registry);
  return intercept(inner, overrides(inner));
}
