/**
 * Reads manifests, config blobs and referrers of one repository, each digest at most once per run:
 * a manifest shared by two indexes or a config shared by two tags costs one request. With the
 * inventory cache, a digest read by an earlier run costs none (docs/design.md, "Inventory cache").
 */
import { manifestText } from '../../cache/inventory-cache.js';
import { RegistryProtocolError } from '../../errors.js';
import type { RepositoryCache } from '../provider.js';
import { pullScope } from './auth.js';
import type { OciClient } from './client.js';
import {
  digestOf,
  parseConfigCreated,
  parseManifest,
  parseReferrers,
  verifyDigest,
  type Descriptor,
  type ParsedManifest,
  MANIFEST_ACCEPT,
  OCI_INDEX,
} from '../../oci/index.js';
import { MAX_PAGES, nextPagePath } from './paging.js';

export interface FetchedManifest {
  readonly digest: string;
  readonly manifest: ParsedManifest;
}

/**
 * A manifest whose bytes check out but which regprune cannot read (Docker schema 1, an unknown type): left out, so
 * never deleted.
 */
export interface UnreadableManifest {
  readonly digest: string;
  readonly unreadable: string;
}

export type ManifestAnswer = FetchedManifest | UnreadableManifest;

/** What the referrers API answered: its descriptors, or that this registry has no such API. */
export type ReferrersAnswer =
  | { readonly supported: true; readonly referrers: readonly Descriptor[] }
  | { readonly supported: false };

/** Reads one repository's content with a per-digest cache. */
export class ManifestReader {
  private readonly byDigest = new Map<string, Promise<ManifestAnswer | undefined>>();
  private readonly configCreated = new Map<string, Promise<string | undefined>>();
  private readonly referrersOf = new Map<string, Promise<ReferrersAnswer>>();

  constructor(
    private readonly client: OciClient,
    private readonly repository: string,
    /** Told the raw bytes of every manifest read (the provider keeps them to put a lost tag back). */
    private readonly onBytes?: (digest: string, bytes: Uint8Array, mediaType: string) => void,
    /** What earlier runs read; absent = read everything from the registry. */
    private readonly cache?: RepositoryCache,
  ) {}

  /**
   * The manifest a tag points at now; undefined when the tag is gone (404). Where the cache knows the
   * repository, a HEAD tells the digest and a known digest is not read again; otherwise one GET
   * gives both digest and manifest.
   */
  async byTag(tag: string): Promise<ManifestAnswer | undefined> {
    if (this.cache?.known) {
      const response = await this.client.request({
        method: 'HEAD',
        path: `/v2/${this.repository}/manifests/${encodeURIComponent(tag)}`,
        accept: MANIFEST_ACCEPT,
        scope: pullScope(this.repository),
        passStatuses: [404],
      });
      if (response.status === 404) return undefined;
      const digest = response.header('docker-content-digest')?.trim();
      if (digest) {
        const cached = this.fromCache(digest);
        if (cached) return cached;
        const read = await this.byDigestOnce(digest);
        // Moved or deleted between the HEAD and the GET: ask by tag, as without the cache.
        if (read) return read;
      }
    }
    return this.readByTag(tag);
  }

  /** A manifest from the cache, checked against its digest (a damaged entry is read again). */
  private fromCache(digest: string): ManifestAnswer | undefined {
    const cached = this.cache?.manifest(digest);
    if (cached === undefined) return undefined;
    const body = new TextEncoder().encode(cached.body);
    const algorithm = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    if (digestOf(body, algorithm) !== digest) return undefined;
    const where = `${this.repository}@${digest}`;
    this.onBytes?.(digest, body, cached.mediaType);
    const answer = readable(digest, body, cached.mediaType || null, where);
    if (!this.byDigest.has(digest)) this.byDigest.set(digest, Promise.resolve(answer));
    return answer;
  }

  /** Keeps a readable manifest's exact bytes for the next run. */
  private remember(answer: ManifestAnswer, body: Uint8Array, mediaType: string): void {
    if (this.cache === undefined || 'unreadable' in answer) return;
    const text = manifestText(body);
    if (text !== undefined) this.cache.rememberManifest(answer.digest, { mediaType, body: text });
  }

  private async readByTag(tag: string): Promise<ManifestAnswer | undefined> {
    const where = `${this.repository}:${tag}`;
    const response = await this.client.request({
      method: 'GET',
      path: `/v2/${this.repository}/manifests/${encodeURIComponent(tag)}`,
      accept: MANIFEST_ACCEPT,
      scope: pullScope(this.repository),
      passStatuses: [404],
    });
    if (response.status === 404) return undefined;
    const headerDigest = response.header('docker-content-digest')?.trim();
    // Registries must send Docker-Content-Digest; where one does not, the digest is the hash of what we got.
    const digest = headerDigest || digestOf(response.body);
    verifyDigest(response.body, digest, where);
    this.onBytes?.(digest, response.body, response.header('content-type') ?? '');
    const fetched = readable(digest, response.body, response.header('content-type'), where);
    this.remember(fetched, response.body, response.header('content-type') ?? '');
    if (!this.byDigest.has(digest)) this.byDigest.set(digest, Promise.resolve(fetched));
    return fetched;
  }

  /** The manifest with this digest (read once, however many ask); undefined when the registry does not have it. */
  byDigestOnce(digest: string): Promise<ManifestAnswer | undefined> {
    let pending = this.byDigest.get(digest);
    if (!pending) {
      const cached = this.fromCache(digest);
      if (cached) return Promise.resolve(cached);
      pending = this.readByDigest(digest);
      this.byDigest.set(digest, pending);
    }
    return pending;
  }

  private async readByDigest(digest: string): Promise<ManifestAnswer | undefined> {
    const where = `${this.repository}@${digest}`;
    const response = await this.client.request({
      method: 'GET',
      path: `/v2/${this.repository}/manifests/${digest}`,
      accept: MANIFEST_ACCEPT,
      scope: pullScope(this.repository),
      passStatuses: [404],
    });
    if (response.status === 404) return undefined;
    const headerDigest = response.header('docker-content-digest')?.trim();
    if (headerDigest && headerDigest !== digest) {
      throw new RegistryProtocolError(
        `${where}: asked for ${digest}, the registry answered ${headerDigest}. Nothing was deleted; check the ` +
          `registry or a proxy in between.`,
      );
    }
    verifyDigest(response.body, digest, where);
    this.onBytes?.(digest, response.body, response.header('content-type') ?? '');
    const answer = readable(digest, response.body, response.header('content-type'), where);
    this.remember(answer, response.body, response.header('content-type') ?? '');
    return answer;
  }

  /** The `created` field of a config blob (read once per digest); undefined when absent or the blob is gone. */
  createdOf(config: Descriptor): Promise<string | undefined> {
    let pending = this.configCreated.get(config.digest);
    if (!pending) {
      const cached = this.cache?.config(config.digest);
      if (cached) return Promise.resolve(cached.created);
      pending = this.readCreated(config.digest);
      this.configCreated.set(config.digest, pending);
    }
    return pending;
  }

  private async readCreated(digest: string): Promise<string | undefined> {
    const response = await this.client.request({
      method: 'GET',
      path: `/v2/${this.repository}/blobs/${digest}`,
      scope: pullScope(this.repository),
      passStatuses: [404],
    });
    if (response.status === 404) return undefined;
    verifyDigest(response.body, digest, `${this.repository} config blob ${digest}`);
    const created = parseConfigCreated(response.body);
    this.cache?.rememberConfig(digest, created);
    return created;
  }

  /**
   * The OCI 1.1 referrers of a digest. A registry with the API answers 200 and an index (empty when
   * nothing refers to it); one without answers 404 (registry 2.8: "404 page not found"), 400, 405 or
   * something that is not an index. Asked once per digest.
   */
  referrers(digest: string): Promise<ReferrersAnswer> {
    let pending = this.referrersOf.get(digest);
    if (!pending) {
      // A registry without the API (registry 2.8) is not asked again in every repository of every run.
      if (this.cache?.referrersUnsupported()) return Promise.resolve({ supported: false });
      pending = this.readReferrers(digest).then((answer) => {
        this.cache?.rememberReferrers(answer.supported);
        return answer;
      });
      this.referrersOf.set(digest, pending);
    }
    return pending;
  }

  /** Every page of the answer: a registry may page referrers behind `Link: rel="next"` (OCI 1.1). */
  private async readReferrers(digest: string): Promise<ReferrersAnswer> {
    const all: Descriptor[] = [];
    let path: string | undefined = `/v2/${this.repository}/referrers/${digest}`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= MAX_PAGES)
        throw new RegistryProtocolError(`GET /v2/${this.repository}/referrers/${digest}: the Link headers never end`);
      const response = await this.client.request({
        method: 'GET',
        path,
        accept: OCI_INDEX,
        scope: pullScope(this.repository),
        passStatuses: page === 0 ? [400, 404, 405, 406, 501] : [],
      });
      const referrers = response.status === 200 ? parseReferrers(response.body) : undefined;
      if (!referrers && page === 0) return { supported: false };
      if (!referrers) throw new RegistryProtocolError(`GET ${path}: a later page of referrers is not an OCI index`);
      all.push(...referrers);
      path = nextPagePath(response);
    }
    return { supported: true, referrers: all };
  }
}

/** Parses a digest-verified manifest; a shape regprune cannot read becomes an explanation, not an exception. */
function readable(digest: string, body: Uint8Array, contentType: string | null, where: string): ManifestAnswer {
  try {
    return { digest, manifest: parseManifest(body, contentType, where) };
  } catch (error) {
    if (error instanceof RegistryProtocolError) return { digest, unreadable: error.message };
    throw error;
  }
}
