/**
 * The ACR adapter on `@azure/container-registry`. SDK shapes stop here: everything leaving this
 * file is our `Image`, `DeleteResult` or a regprune error.
 *
 * Call budget (what ACR sees, each counted in `stats.apiCalls`): per client a 401 challenge, an
 * `/oauth2/exchange` and an `/oauth2/token`; then per change of token scope (catalog →
 * metadata_read of a repository → pull → delete) another 401 + `/oauth2/token`; plus one request
 * per listing page, per manifest read and per deletion.
 */
import { Agent } from 'node:https';
import type { TokenCredential } from '@azure/core-auth';
import {
  ContainerRegistryClient,
  ContainerRegistryContentClient,
  type ContainerRegistryClientOptions,
} from '@azure/container-registry';
import type { AcrRegistryConfig } from '../../config/schema.js';
import { mapConcurrent, mapUntilFailure } from '../../concurrency.js';
import { describeError, RegistryProtocolError, RegpruneError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import type { Image, Inventory } from '../../model.js';
import {
  DeleteAbortedError,
  type DeleteRequest,
  type DeleteResult,
  type Provider,
  type ProviderOptions,
  type ProviderStats,
  type TagListing,
} from '../provider.js';
import { acrCodeOf, statusOf, acrError } from './errors.js';
import { toImage, type ListedManifest, type ReadManifest, type TagAttributes } from './image.js';
import { callCounter, capRetryAfter, requestBudget, throttleRetry, type ThrottleRetryOptions } from './pipeline.js';
import { budgetLimitsFor, RequestBudget } from '../../throttle/index.js';

/**
 * Page size for catalog and manifest listings. 100 is ACR's own default page; a larger `n` is not
 * documented for the data plane, and the SDK follows the `Link` header whatever size ACR answers.
 */
export const ACR_PAGE_SIZE = 100;
/**
 * Default requests in flight. acr-cli caps purge concurrency at 32 ("recommended by ACR server");
 * older ACR docs gave WriteOps of 100 / 500 / 2,000 per minute (Basic / Standard / Premium) and
 * deletes are writes. 8 parallel deletes (~50/s at ACR's ~150 ms per delete) clears thousands of
 * images in minutes, well inside a nightly window, while leaving the registry's rate budget to the
 * CI pushes and pulls that share it; `concurrency` in the config raises it up to the cap.
 */
export const ACR_DEFAULT_CONCURRENCY = 8;
/** acr-cli's `maxPoolSize = 32 // … recommended by ACR server`. */
export const ACR_MAX_CONCURRENCY = 32;
/**
 * Deletions per `delete` call the executor makes. ACR has no batch API; a batch only bounds how
 * much work starts between two checks of the time budget (a few seconds of work at most).
 */
export const ACR_DELETE_BATCH = 64;
/** Listing manifests again costs ceil(manifests / page) calls; below this many tags, ask per tag. */
const PER_TAG_RESOLVE_MAX = 3;

export interface AcrProviderOptions extends ProviderOptions {
  /** Default: `DefaultAzureCredential` (managed identity in Azure, environment or `az login` elsewhere). */
  readonly credential?: TokenCredential;
  /** Extra CA certificate(s) to trust, PEM (tests: a fake registry's self-signed certificate). */
  readonly ca?: string;
  /** Tuning of core-rest-pipeline's retry for 5xx and Retry-After (tests shorten the delays). */
  readonly retry?: {
    readonly maxRetries?: number;
    readonly retryDelayInMs?: number;
    readonly maxRetryDelayInMs?: number;
  };
  /** Tuning of the retry for 429 without Retry-After. */
  readonly throttle?: Partial<ThrottleRetryOptions>;
  /** Longest wait honoured from a `Retry-After` (default 60 s); tests shorten it. */
  readonly retryAfterCapMs?: number;
}

/** Longest wait a `Retry-After` may impose on one retry (as for OCI registries). */
export const ACR_RETRY_AFTER_CAP_MS = 60_000;

const DEFAULT_THROTTLE: ThrottleRetryOptions = { maxRetries: 6, baseDelayMs: 1_000, maxDelayMs: 30_000 };

/** What the SDK's paged iterators give per page (read structurally). */
type Page<T> = T[] & { continuationToken?: string };
type Pager<T> = (continuationToken: string | undefined) => AsyncIterableIterator<Page<T>>;

class AcrProvider implements Provider {
  readonly kind = 'acr' as const;
  readonly name: string;
  readonly maxDeleteBatch = ACR_DELETE_BATCH;
  readonly stats: ProviderStats = { apiCalls: 0, retries: 0, throttled: 0 };
  private readonly endpoint: string;
  private readonly concurrency: number;
  private readonly clientOptions: ContainerRegistryClientOptions;
  private readonly log: Logger;
  private readonly agent: Agent | undefined;
  private client: ContainerRegistryClient;
  /**
   * Reads a manifest's tags between deleting its tags and deleting it: a client of its own, so its
   * token keeps the read scope and the main client's keeps the delete scope (each change of scope
   * costs ACR a 401 and a token call).
   */
  private checkClient: ContainerRegistryClient | undefined;
  /** Tag count seen at the last listing of each repository, to price `resolveTags`. */
  private readonly tagCounts = new Map<string, number>();
  /** The inventory cache (docs/design.md, "Inventory cache"): a manifest read once is not read again. */
  private readonly cache: ProviderOptions['cache'];

  constructor(
    config: AcrRegistryConfig,
    private readonly credential: TokenCredential,
    options: AcrProviderOptions,
  ) {
    this.name = config.name;
    this.endpoint = config.endpoint.replace(/\/+$/, '');
    this.concurrency = Math.min(config.concurrency ?? ACR_DEFAULT_CONCURRENCY, ACR_MAX_CONCURRENCY);
    this.log = options.log ?? silentLogger;
    this.cache = options.cache;
    const now = options.now ?? (() => new Date());
    if ((config.concurrency ?? 0) > ACR_MAX_CONCURRENCY) {
      this.log.warn(
        `concurrency ${config.concurrency} is above ACR's recommended ${ACR_MAX_CONCURRENCY}; using ` +
          `${ACR_MAX_CONCURRENCY}`,
        { registry: config.name },
      );
    }
    this.agent = options.ca ? new Agent({ ca: options.ca, keepAlive: true }) : undefined;
    this.clientOptions = {
      ...(config.audience ? { audience: config.audience } : {}),
      ...(this.agent ? { agent: this.agent } : {}),
      retryOptions: { maxRetries: 3, ...options.retry },
      additionalPolicies: [
        // Both next to the wire (after Sign), so they see raw responses: further out, core-client's
        // deserialization policy has already turned a 429 into a thrown RestError. Throttling
        // outside the counter, so every attempt is counted.
        { policy: throttleRetry({ ...DEFAULT_THROTTLE, ...options.throttle }), position: 'perRetry' },
        { policy: callCounter(this.stats), position: 'perRetry' },
        {
          policy: requestBudget(new RequestBudget(budgetLimitsFor(config)), () => now().getTime()),
          position: 'perRetry',
        },
        // Innermost: the retry policies above read the capped wait.
        {
          policy: capRetryAfter(options.retryAfterCapMs ?? ACR_RETRY_AFTER_CAP_MS, () => now().getTime()),
          position: 'perRetry',
        },
      ],
    };
    this.client = this.newClient();
  }

  private newClient(): ContainerRegistryClient {
    return new ContainerRegistryClient(this.endpoint, this.credential, this.clientOptions);
  }

  /**
   * Runs one SDK call. The SDK re-authenticates by itself when an access token expires (401 →
   * new token from its cached refresh token); when the refresh token itself has expired (3 h, the
   * acr purge failure of acr-cli#641) the token exchange answers 401 and the SDK gives up, so we
   * build a fresh client (new AAD token, new refresh token) and try once more.
   */
  private async call<T>(
    what: string,
    operation: (client: ContainerRegistryClient) => Promise<T>,
    which: 'main' | 'check' = 'main',
  ): Promise<T> {
    const clientOf = () => (which === 'main' ? this.client : (this.checkClient ??= this.newClient()));
    try {
      return await operation(clientOf());
    } catch (error) {
      if (statusOf(error) !== 401) throw acrError(error, this.endpoint, what);
      this.log.info('ACR token expired mid-run; authenticating again', { registry: this.name });
      if (which === 'main') this.client = this.newClient();
      else this.checkClient = this.newClient();
      try {
        return await operation(clientOf());
      } catch (retryError) {
        throw acrError(retryError, this.endpoint, what);
      }
    }
  }

  /** Pages of a listing; each page is fetched with `call`, so a re-authentication resumes at that page. */
  private async *pages<T>(what: string, pager: (client: ContainerRegistryClient) => Pager<T>): AsyncGenerator<T[]> {
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.call(what, async (client) => {
        const next = await pager(client)(token).next();
        return next.done ? null : next.value;
      });
      if (page === null) return;
      yield page;
      token = page.continuationToken;
      // A registry (or proxy) that hands back a token it already gave would page forever.
      if (token !== undefined && seen.has(token)) {
        throw new RegistryProtocolError(
          `${what}: ACR returned the same Link continuation twice (${token}); stopped paging.`,
        );
      }
      if (token !== undefined) seen.add(token);
    } while (token);
  }

  async *listRepositories(): AsyncIterable<string> {
    for await (const page of this.pages(
      'listing repositories',
      (client) => (continuationToken) =>
        client.listRepositoryNames().byPage({ maxPageSize: ACR_PAGE_SIZE, continuationToken }),
    )) {
      yield* page;
    }
  }

  private async listManifests(repository: string): Promise<ListedManifest[]> {
    const listed: ListedManifest[] = [];
    for await (const page of this.pages(
      `listing manifests of ${repository}`,
      (client) => (continuationToken) =>
        client
          .getRepository(repository)
          .listManifestProperties({ order: 'LastUpdatedOnDescending' })
          .byPage({ maxPageSize: ACR_PAGE_SIZE, continuationToken }),
    )) {
      for (const item of page) {
        listed.push({
          digest: item.digest,
          tags: [...item.tags],
          lastUpdatedOn: item.lastUpdatedOn,
          sizeInBytes: item.sizeInBytes,
          architecture: item.architecture,
          children: item.relatedArtifacts.map((child) => child.digest),
          canDelete: item.canDelete,
          canWrite: item.canWrite,
        });
      }
    }
    this.tagCounts.set(
      repository,
      listed.reduce((sum, m) => sum + m.tags.length, 0),
    );
    return listed;
  }

  /**
   * Every tag's own changeable attributes (`GET /acr/v1/{name}/_tags`, paged): the manifest listing
   * names tags but not their locks. SDK 1.1.x sends no `digest` filter from
   * `RegistryArtifact.listTagProperties`, so one artifact's listing pages through every tag of the
   * repository (test/wire/acr-provider.test.ts holds it to that: the fake honours `digest`).
   */
  private async listTagAttributes(repository: string, anyDigest: string): Promise<Map<string, TagAttributes>> {
    const attributes = new Map<string, TagAttributes>();
    for await (const page of this.pages(
      `listing tags of ${repository}`,
      (client) => (continuationToken) =>
        client
          .getArtifact(repository, anyDigest)
          .listTagProperties()
          .byPage({ maxPageSize: ACR_PAGE_SIZE, continuationToken }),
    )) {
      for (const tag of page) {
        attributes.set(tag.name, { digest: tag.digest, canDelete: tag.canDelete, canWrite: tag.canWrite });
      }
    }
    return attributes;
  }

  /**
   * Every manifest of the repository. Only untagged manifests that no index lists are read (one
   * `getManifest` each): that is where OCI referrers (signatures, SBOMs pushed with a `subject`)
   * hide, and the listing shows neither their media type nor their subject.
   */
  async listInventory(repository: string): Promise<Inventory> {
    const listed = await this.listManifests(repository);
    const tagged = listed.find((manifest) => manifest.tags.length > 0);
    const tagAttributes = tagged ? await this.listTagAttributes(repository, tagged.digest) : new Map();
    const children = new Set(listed.flatMap((m) => m.children));
    const untaggedRoots = listed.filter((m) => m.tags.length === 0 && !children.has(m.digest));
    const reads = new Map<string, ReadManifest>();
    const warnings: string[] = [];
    const cache = untaggedRoots.length > 0 ? await this.cache?.open(repository) : undefined;
    const toRead = untaggedRoots.filter((m) => {
      const cached = cache?.manifest(m.digest);
      const manifest = cached === undefined ? undefined : cachedManifestObject(cached.body);
      if (cached !== undefined && manifest !== undefined)
        reads.set(m.digest, { mediaType: cached.mediaType, manifest });
      return manifest === undefined;
    });
    if (toRead.length > 0) {
      const content = new ContainerRegistryContentClient(
        this.endpoint,
        repository,
        this.credential,
        this.clientOptions,
      );
      const read = async (manifest: ListedManifest) => {
        try {
          const result = await content.getManifest(manifest.digest);
          reads.set(manifest.digest, { mediaType: result.mediaType, manifest: result.manifest });
          cache?.rememberManifest(manifest.digest, {
            mediaType: result.mediaType,
            body: JSON.stringify(result.manifest),
          });
        } catch (error) {
          // A manifest deleted since the listing is simply gone; anything else is worth a warning.
          if (statusOf(error) !== 404)
            warnings.push(
              `${manifest.digest}: manifest unreadable ` +
                `(${describeError(acrError(error, this.endpoint, `reading ${repository}@${manifest.digest}`))})`,
            );
        }
      };
      // One read first: a fresh client's parallel first calls would each fetch their own token.
      await read(toRead[0]!);
      await mapConcurrent(toRead.slice(1), this.concurrency, read);
    }
    await cache?.save();
    const images = listed.map((manifest) => toImage(manifest, reads.get(manifest.digest), tagAttributes));
    return { registry: this.name, repository, images, warnings };
  }

  async listImages(repository: string): Promise<Image[]> {
    const { images, warnings } = await this.listInventory(repository);
    for (const warning of warnings) this.log.warn(warning, { registry: this.name, repository });
    return [...images];
  }

  /** The manifest listing: it names every tag and its digest in one go. */
  async listTags(repository: string): Promise<TagListing> {
    const targets = await this.tagTargets(repository);
    return { tags: [...targets.keys()].sort(), targets };
  }

  private async tagTargets(repository: string): Promise<Map<string, string>> {
    const byTag = new Map<string, string>();
    for (const manifest of await this.listManifests(repository))
      for (const tag of manifest.tags) byTag.set(tag, manifest.digest);
    return byTag;
  }

  /** Per tag (`GET _tags/{tag}`) when few, else one fresh manifest listing: whichever costs fewer calls. */
  async resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>> {
    const resolved = new Map<string, string | null>();
    // Unknown size (never listed by this provider): assume one page, so a long tag list is listed.
    const listingPages = Math.max(1, Math.ceil((this.tagCounts.get(repository) ?? 0) / ACR_PAGE_SIZE));
    if (tags.length <= Math.max(PER_TAG_RESOLVE_MAX, listingPages)) {
      for (const tag of tags) {
        const digest = await this.call(`resolving ${repository}:${tag}`, async (client) => {
          try {
            return (await client.getArtifact(repository, tag).getTagProperties(tag)).digest;
          } catch (error) {
            if (statusOf(error) === 404) return null;
            throw error;
          }
        });
        resolved.set(tag, digest);
      }
      return resolved;
    }
    const byTag = await this.tagTargets(repository);
    for (const tag of tags) resolved.set(tag, byTag.get(tag) ?? null);
    return resolved;
  }

  async delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
    if (requests.length === 0) return [];
    // The first deletion alone: it takes the 401 that switches the token to `delete` scope, so the
    // rest reuse that token instead of each fetching one.
    const first = await this.deleteOne(repository, requests[0]!);
    const rest = await mapUntilFailure(requests.slice(1), this.concurrency, (request) =>
      this.deleteOne(repository, request),
    );
    const finished = [first, ...rest.results.filter((result) => result !== undefined)];
    if (rest.failure) throw new DeleteAbortedError(rest.failure.error, finished);
    return finished;
  }

  private async deleteOne(repository: string, request: DeleteRequest): Promise<DeleteResult> {
    try {
      if (request.tags.length > 0) {
        const stillTaggedBy = await this.deleteTags(repository, request);
        if (stillTaggedBy === null) return { request, ok: true, alreadyGone: true };
        if (stillTaggedBy.length > 0) return { request, ok: true, stillTaggedBy };
      }
      await this.call(`deleting ${repository}@${request.digest}`, (client) =>
        client.getArtifact(repository, request.digest).delete(),
      );
      // The SDK treats 404 as success (202 and 404 are both declared responses): already gone.
      return { request, ok: true };
    } catch (error) {
      const status = error instanceof RegpruneError ? statusOf(error.cause) : undefined;
      const refused = error instanceof RegpruneError && error.code === 'REGISTRY_AUTH';
      const unreachable =
        error instanceof RegpruneError && error.code === 'REGISTRY_UNAVAILABLE' && status === undefined;
      if (refused || unreachable) {
        // Credentials refused or registry unreachable: the whole run stops, per the Provider contract.
        throw error;
      }
      const acrCode = error instanceof RegpruneError ? acrCodeOf(error.cause) : undefined;
      if (status === 405) {
        return { request, ok: false, error: lockedHint(repository, request), code: acrCode ?? '405' };
      }
      return {
        request,
        ok: false,
        error: describeError(error),
        code: acrCode ?? (status !== undefined ? String(status) : undefined),
      };
    }
  }

  /**
   * Deletes the planned tags of a manifest one by one (`DELETE /acr/v1/{name}/_tags/{tag}`), then
   * reads which tags still point at it: a tag moved onto it during the run keeps it (docs/design.md,
   * section 5). Null when the manifest is gone already.
   */
  private async deleteTags(repository: string, request: DeleteRequest): Promise<readonly string[] | null> {
    for (const tag of request.tags) {
      await this.call(`deleting tag ${repository}:${tag}`, (client) =>
        client.getArtifact(repository, request.digest).deleteTag(tag),
      );
    }
    return this.call(
      `reading ${repository}@${request.digest}`,
      async (client) => {
        try {
          return (await client.getArtifact(repository, request.digest).getManifestProperties()).tags;
        } catch (error) {
          if (statusOf(error) === 404) return null;
          throw error;
        }
      },
      'check',
    );
  }

  async close(): Promise<void> {
    this.agent?.destroy();
  }
}

/**
 * What a 405 on a delete means: ACR answers `REGISTRY_DISALLOWED_OPERATION` when the manifest or a
 * tag on it has `writeEnabled` or `deleteEnabled` false (a lock set after the listing, which would
 * otherwise have kept it as `locked`). Both attributes must be true to delete (Azure/acr-cli#134).
 */
function lockedHint(repository: string, request: DeleteRequest): string {
  const unlock = (image: string) =>
    `\`az acr repository update --name <registry> --image ${image} --write-enabled true --delete-enabled true\``;
  const images = [`${repository}@${request.digest}`, ...request.tags.map((tag) => `${repository}:${tag}`)];
  return (
    `locked: ACR refused to delete ${repository}@${request.digest} (HTTP 405 REGISTRY_DISALLOWED_OPERATION): ` +
    'the image or one of its tags has writeEnabled or deleteEnabled set to false. Leave it (the next run keeps ' +
    `it as locked) or unlock it: ${images.map(unlock).join(', ')}.`
  );
}

/** A cached manifest's JSON object; undefined when the entry is damaged (then it is read again). */
function cachedManifestObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The provider for an ACR registry of the config. */
export async function createAcrProvider(
  registry: AcrRegistryConfig,
  options: AcrProviderOptions = {},
): Promise<Provider> {
  let credential = options.credential;
  if (!credential) {
    // Loaded on demand: @azure/identity (MSAL) is the heaviest import of the function bundle.
    const { DefaultAzureCredential } = await import('@azure/identity');
    credential = new DefaultAzureCredential();
  }
  return new AcrProvider(registry, credential, options);
}
