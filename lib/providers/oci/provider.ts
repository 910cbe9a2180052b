/** The OCI Distribution provider: any registry speaking the v2 HTTP API (registry:2, Harbor, zot, GHCR…). */
import type { OciRegistryConfig } from '../../config/schema.js';
import { DEFAULT_REPOSITORY_CONCURRENCY, mapConcurrent } from '../../concurrency.js';
import { ConfigError, NotFoundError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import type { DeleteRequest, DeleteResult, Provider, ProviderOptions, ProviderStats } from '../provider.js';
import { pullScope, pushScope, readCredentials } from './auth.js';
import { OciClient } from './client.js';
import { deleteAll } from './delete.js';
import { readInventory } from './inventory.js';
import { ManifestReader } from './manifest-reader.js';
import { MANIFEST_ACCEPT, OCI_MANIFEST } from '../../oci/index.js';
import { listAllTags, listCatalog, MAX_PAGE_SIZE } from './paging.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { deleteByTag, probeFailure, probeTagDelete } from './tag-delete.js';
import { type BucketClock, budgetLimitsFor, RequestBudget, SYSTEM_CLOCK } from '../../throttle/index.js';

/**
 * Requests in flight per registry. Measured on registry 2.8 (2 cores): one repository gains nothing
 * beyond ~4, but repositories pruned side by side (8 by default) do: 300 × 4 tags took 15.0 s at 4,
 * 13.4 s at 8 (bench/prune-many.ts).
 */
export const OCI_DEFAULT_CONCURRENCY = 8;
/** Deletes handed to one `delete` call: the API has no batch, so this only bounds how much a caller queues at once. */
export const OCI_MAX_DELETE_BATCH = 50;
/** A request with no answer in this long is treated like a dropped connection (retried). */
export const OCI_REQUEST_TIMEOUT_MS = 60_000;

export interface OciProviderOptions extends ProviderOptions {
  readonly fetch?: typeof fetch;
  readonly retry?: { readonly maxAttempts?: number; readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  /** Overrides `concurrency` in the config. */
  readonly concurrency?: number;
  /** Waits between retries (tests record the waits instead of sleeping). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly requestTimeoutMs?: number;
  /** `n` for catalog and tag pages (default and most registry 2.8 accepts: 1000); tests page small. */
  readonly pageSize?: number;
  /** The registry's request budget (default: from the config's `rateLimit`; tests inject a clock). */
  readonly budget?: RequestBudget;
}

/** Builds a provider for one OCI registry. Reads the credential variables now: a missing one is a ConfigError. */
export function createOciProvider(registry: OciRegistryConfig, options: OciProviderOptions = {}): Provider {
  const config = registry;
  const endpointUrl = new URL(config.endpoint);
  if (endpointUrl.username !== '' || endpointUrl.password !== '') {
    throw new ConfigError(
      `registry "${config.name}": endpoint must not contain credentials. Put them in environment variables and name ` +
        `those in auth (usernameEnv/passwordEnv or tokenEnv).`,
      ['endpoint: expected a URL without user:password@'],
    );
  }
  const credentials = readCredentials(config, options.env ?? process.env);
  const log = options.log ?? silentLogger;
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, options.pageSize ?? MAX_PAGE_SIZE));
  const concurrency = Math.max(1, options.concurrency ?? config.concurrency ?? OCI_DEFAULT_CONCURRENCY);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...definedOnly(options.retry ?? {}) };
  const stats: ProviderStats = { apiCalls: 0, retries: 0, throttled: 0 };
  const endpoint = endpointUrl.origin + endpointUrl.pathname.replace(/\/+$/, '');
  const clock = budgetClock(options.sleep);
  const client = new OciClient({
    registry: config.name,
    endpoint,
    credentials,
    fetch: options.fetch ?? globalThis.fetch,
    retry,
    concurrency,
    stats,
    sleep: clock.sleep,
    nowMs: () => (options.now ?? (() => new Date()))().getTime(),
    log,
    requestTimeoutMs: options.requestTimeoutMs ?? OCI_REQUEST_TIMEOUT_MS,
    budget: options.budget ?? new RequestBudget(budgetLimitsFor(config), clock),
  });

  // The raw bytes of every manifest read in the repositories listed last (a few are pruned at once,
  // so memory follows the largest few repositories, not the registry): restoreTag puts them back.
  // Whether the registry has the referrers API: the first repository's listing asks, the rest know.
  let referrersSupported: boolean | undefined;
  // Repositories listed side by side wait for the first one's probe rather than each asking.
  let referrersProbe: Promise<boolean> | undefined;
  // A probe that failed is not shared: each waiting repository then asks on its own.
  const probeOnce = (probe: () => Promise<boolean>): Promise<boolean> => {
    if (referrersProbe !== undefined) return referrersProbe.catch(() => probe());
    const probing = probe();
    referrersProbe = probing;
    probing.catch(() => {
      if (referrersProbe === probing) referrersProbe = undefined;
    });
    return probing;
  };
  const kept = new Map<string, Map<string, KeptManifest>>();
  // Twice the repositories in flight: one listed that long ago has finished its deletions.
  const keptRepositories = 2 * (config.repositoryConcurrency ?? DEFAULT_REPOSITORY_CONCURRENCY);
  // Every tag name listed in each repository being pruned (a few at once): deleting by tag resolves
  // only tags beyond these.
  const knownTags = new Map<string, Set<string>>();
  const known = (repository: string): Set<string> => {
    let tags = knownTags.get(repository);
    if (tags === undefined) {
      tags = new Set();
      knownTags.set(repository, tags);
      for (const name of knownTags.keys()) if (knownTags.size > keptRepositories) knownTags.delete(name);
    }
    return tags;
  };
  const listTagNames = async (repository: string) => {
    const tags = await listAllTags(client, repository, pageSize);
    for (const tag of tags) known(repository).add(tag);
    return tags;
  };
  // Whether the registry deletes a tag alone: probed once per registry, at its first deletion of a tag.
  let tagDelete: Promise<boolean> | null = null;
  const deletesTagsAlone = (repository: string): Promise<boolean> => {
    tagDelete ??= probeTagDelete(client, repository).then(
      (supported) => {
        log.info(`registry "${config.name}" ${supported ? 'deletes' : 'cannot delete'} a tag alone (probed)`);
        return supported;
      },
      (error: unknown) => {
        tagDelete = null;
        log.warn(probeFailure(config.name, error));
        return false;
      },
    );
    return tagDelete;
  };
  const cacheWrites: Array<Promise<void>> = [];
  const read = async (repository: string) => {
    const manifests = new Map<string, KeptManifest>();
    kept.delete(repository);
    kept.set(repository, manifests);
    for (const name of kept.keys()) if (kept.size > keptRepositories) kept.delete(name);
    const keep = (digest: string, bytes: Uint8Array, mediaType: string) => {
      manifests.set(digest, { bytes, mediaType: mediaType || declaredMediaType(bytes) });
    };
    const tags = await listTagNames(repository);
    const cache = await options.cache?.open(repository);
    const inventory = await readInventory({
      tags,
      reader: new ManifestReader(client, repository, keep, cache),
      concurrency,
      referrersSupported,
      probeOnce,
    });
    referrersSupported ??= inventory.referrersSupported;
    // Written while the run goes on; `close` waits for it. A failed write is a warning (never thrown).
    if (cache) cacheWrites.push(cache.save());
    return inventory;
  };

  const resolveTags = async (repository: string, tags: readonly string[]): Promise<Map<string, string | null>> => {
    const digests = await mapConcurrent(tags, concurrency, async (tag) => {
      const response = await client.request({
        method: 'HEAD',
        // A digest as the reference (is that manifest still there?) goes as it is; a tag is encoded.
        path: `/v2/${repository}/manifests/${tag.includes(':') ? tag : encodeURIComponent(tag)}`,
        accept: MANIFEST_ACCEPT,
        scope: pullScope(repository),
        passStatuses: [404],
      });
      if (response.status === 404) return null;
      const digest = response.header('docker-content-digest')?.trim();
      if (digest) return digest;
      // No digest header on HEAD: read the manifest and hash it.
      const fetched = await new ManifestReader(client, repository).byTag(tag);
      return fetched?.digest ?? null;
    });
    return new Map(tags.map((tag, index) => [tag, digests[index] ?? null]));
  };

  return {
    kind: 'oci',
    name: config.name,
    maxDeleteBatch: OCI_MAX_DELETE_BATCH,
    // The distribution API has no manifest listing: untagged manifests no tag reaches are invisible.
    listsUntagged: false,
    stats,
    listRepositories: () => listCatalog(client, pageSize),
    // Tag names only: where each points costs a request per tag, so `resolveTags` asks for the ones needed.
    listTags: async (repository) => ({ tags: await listTagNames(repository), targets: null }),
    async listInventory(repository) {
      const { images, warnings } = await read(repository);
      return { registry: config.name, repository, images, warnings };
    },
    async listImages(repository) {
      const inventory = await read(repository);
      for (const warning of inventory.warnings) log.warn(warning, { registry: config.name });
      return inventory.images;
    },
    resolveTags,
    async delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
      const context = { client, registry: config.name, repository, concurrency };
      // By tag where the registry can (docs/design.md, section 5): a tag moved onto the manifest meanwhile keeps it.
      if (!requests.some((request) => request.tags.length > 0) || !(await deletesTagsAlone(repository)))
        return deleteAll(context, requests);
      return deleteByTag(
        {
          ...context,
          knownTags: known(repository),
          listTags: () => listAllTags(client, repository, pageSize),
          resolve: (tags) => resolveTags(repository, tags),
        },
        requests,
      );
    },
    async close() {
      await Promise.all(cacheWrites.splice(0));
    },
    async restoreTag(repository, tag, digest) {
      const manifest = kept.get(repository)?.get(digest);
      if (manifest === undefined) {
        throw new NotFoundError(
          `cannot put tag "${tag}" back onto ${repository}@${digest}: its manifest was not read in this run. ` +
            `Push it again (docker buildx imagetools create, crane tag) while its blobs are still stored, that is ` +
            `before the next garbage-collect.`,
        );
      }
      await client.request({
        method: 'PUT',
        path: `/v2/${repository}/manifests/${encodeURIComponent(tag)}`,
        scope: pushScope(repository),
        body: { bytes: manifest.bytes, contentType: manifest.mediaType },
      });
    },
    async recreateManifest(repository, digest) {
      const manifest = kept.get(repository)?.get(digest);
      if (manifest === undefined) {
        throw new NotFoundError(`cannot re-create ${repository}@${digest}: its manifest was not read in this run.`);
      }
      // By digest: the manifest is whole again (its blobs are still stored), and no tag is named.
      await client.request({
        method: 'PUT',
        path: `/v2/${repository}/manifests/${digest}`,
        scope: pushScope(repository),
        body: { bytes: manifest.bytes, contentType: manifest.mediaType },
      });
    },
  };
}

interface KeptManifest {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
}

/** The `mediaType` a manifest declares in its JSON, for a registry that sent no Content-Type. */
function declaredMediaType(bytes: Uint8Array): string {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed === 'object' && parsed !== null && 'mediaType' in parsed && typeof parsed.mediaType === 'string')
      return parsed.mediaType;
  } catch {
    // Not JSON: the PUT names the OCI manifest type, and the registry says if it disagrees.
  }
  return OCI_MANIFEST;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * The clock the retries and the request budget share. With an injected `sleep` (tests record waits
 * instead of waiting), time moves by what was slept, so a `Retry-After` the client waited out has
 * passed for the budget too.
 */
function budgetClock(sleep: ((ms: number) => Promise<void>) | undefined): BucketClock {
  if (sleep === undefined) return SYSTEM_CLOCK;
  let sleptMs = 0;
  return {
    nowMs: () => performance.now() + sleptMs,
    sleep: async (ms) => {
      sleptMs += ms;
      await sleep(ms);
    },
  };
}
