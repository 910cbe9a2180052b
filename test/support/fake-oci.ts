/**
 * A small in-memory OCI Distribution registry on a `node:http` server (127.0.0.1, free port), for
 * what the real registry:2 cannot do: token auth, throttling, connection resets, odd paging,
 * the referrers API, refused deletes. Its routes are a table of request → response; tests put
 * faults in front of them (`fault`) and read every request back (`requests`).
 *
 * Reusable by any test: `const registry = await FakeOciRegistry.start({ ... })`,
 * `registry.pushImage('app', { tags: ['v1'], created: '2024-01-01T00:00:00Z' })`, and `close()`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const COSIGN_SIGNATURE_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** One request as the server saw it, in arrival order. */
export interface RecordedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
  /** A PUT's body and its Content-Type. */
  readonly body?: Uint8Array;
  readonly contentType?: string | undefined;
}

/** What a route answers: a status with headers and body, or `reset` (the socket is destroyed). */
export type FakeReply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string | Uint8Array | object }
  | 'reset';

export interface FakeRoute {
  readonly method?: string;
  /** Matched against the path without the query string. */
  readonly path: string | RegExp;
  /** Replies in order, one per matching request; the route is spent when they run out. */
  readonly replies: FakeReply[];
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
  readonly platform?: { readonly architecture: string; readonly os: string };
}

export type FakeAuth =
  /** Distribution token auth: 401 + Bearer challenge, token endpoint at `/token` (basic creds checked when given). */
  | { readonly kind: 'token'; readonly username?: string; readonly password?: string; readonly tokenLifetimeS?: number }
  /** A fixed bearer token (a PAT). */
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export interface FakeOciOptions {
  /** Largest page the server sends for catalog and tags (whatever `n` asks). Default 100. */
  readonly pageSize?: number;
  /** Largest `n` accepted; above it 400 PAGINATION_NUMBER_INVALID (registry 2.8: 1000). */
  readonly maxN?: number;
  /** `Link` targets as `/v2/…` (registry 2.8) or `http://host/v2/…`. */
  readonly linkStyle?: 'relative' | 'absolute';
  /** Page tags/list too (registry 2.8 does not: it sends every tag at once). Default true. */
  readonly pageTags?: boolean;
  /** Serve `GET /v2/<name>/referrers/<digest>` (OCI 1.1). Default false: 404 like registry 2.8. */
  readonly referrersApi?: boolean;
  /** Referrers per page of the referrers API, the rest behind a `Link: rel="next"` (default: all in one). */
  readonly referrersPageSize?: number;
  /**
   * `DELETE /v2/<name>/manifests/<tag>` removes that tag alone (OCI 1.1, distribution v3, zot,
   * Harbor: 202, or 404 MANIFEST_UNKNOWN for an unknown tag). Default false: 400 DIGEST_INVALID,
   * as registry 2.8 answers.
   */
  readonly tagDelete?: boolean;
  /** `storage.delete.enabled`; false answers 405 UNSUPPORTED. Default true. */
  readonly deleteEnabled?: boolean;
  readonly auth?: FakeAuth;
}

interface StoredManifest {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly subject?: string;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

interface FakeRepository {
  readonly manifests: Map<string, StoredManifest>;
  readonly tags: Map<string, string>;
  readonly blobs: Map<string, Uint8Array>;
}

export interface ImageSpec {
  readonly tags?: readonly string[];
  /** The config's `created`; omitted from the config when undefined. */
  readonly created?: string;
  readonly annotations?: Record<string, string>;
  /** Layer contents (each becomes a blob); default one layer unique to this image. */
  readonly layers?: readonly string[];
  readonly configMediaType?: string;
  readonly layerMediaType?: string;
  readonly artifactType?: string;
  /** Digest of the manifest this one refers to (OCI `subject`). */
  readonly subject?: string;
  readonly mediaType?: string;
  /** Makes otherwise identical specs distinct manifests. */
  readonly salt?: string;
}

export interface IndexSpec {
  readonly tags?: readonly string[];
  readonly children: readonly Descriptor[];
  readonly annotations?: Record<string, string>;
}

const encoder = new TextEncoder();
export const sha256 = (bytes: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));
const errorBody = (code: string, message: string) => ({ errors: [{ code, message }] });

/** Actions a token scope grants: `repository:app:pull,delete` → app → {pull, delete}. */
function grantedActions(scopes: readonly string[]): Map<string, Set<string>> {
  const granted = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const match = /^(repository|registry):(.+):([^:]+)$/.exec(scope);
    if (!match) continue;
    const key = `${match[1]}:${match[2]}`;
    const actions = granted.get(key) ?? new Set<string>();
    for (const action of match[3]!.split(',')) actions.add(action);
    granted.set(key, actions);
  }
  return granted;
}

export class FakeOciRegistry {
  readonly requests: RecordedRequest[] = [];
  /** Every token request's scopes and whether its basic credentials matched. */
  readonly tokenRequests: Array<{
    readonly scopes: string[];
    readonly service: string | null;
    readonly basicOk: boolean;
  }> = [];
  private readonly repositories = new Map<string, FakeRepository>();
  private readonly faults: FakeRoute[] = [];
  private readonly tokens = new Map<string, { scopes: Map<string, Set<string>> }>();
  private tokenCounter = 0;
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeOciOptions,
  ) {}

  /** Starts a server on 127.0.0.1 and a free port. */
  static async start(options: FakeOciOptions = {}): Promise<FakeOciRegistry> {
    let registry: FakeOciRegistry | undefined;
    const server = createServer((request, response) => {
      void registry!.handle(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    registry = new FakeOciRegistry(server, `http://127.0.0.1:${port}`, options);
    return registry;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Puts a fault in front of the normal routes: its replies are used, in order, by the next matching requests. */
  fault(route: FakeRoute): void {
    this.faults.push({ ...route, replies: [...route.replies] });
  }

  /** Makes every token issued so far invalid (as when a token service restarts or a token is revoked). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Every request (token fetches included) as `METHOD /path` lines, in arrival order. */
  requestLines(): string[] {
    return this.requests.map((request) => `${request.method} ${request.path}`);
  }

  repository(name: string): FakeRepository {
    let repository = this.repositories.get(name);
    if (!repository) {
      repository = { manifests: new Map(), tags: new Map(), blobs: new Map() };
      this.repositories.set(name, repository);
    }
    return repository;
  }

  /** Creates an empty repository (it shows in the catalog with no tags). */
  createRepository(name: string): void {
    this.repository(name);
  }

  putBlob(repositoryName: string, bytes: Uint8Array, mediaType: string): Descriptor {
    const digest = sha256(bytes);
    this.repository(repositoryName).blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** Stores a manifest (exact bytes) and points `tags` at it; returns its descriptor. */
  putManifest(repositoryName: string, manifest: Record<string, unknown>, tags: readonly string[] = []): Descriptor {
    const bytes = json(manifest);
    const digest = sha256(bytes);
    const mediaType = typeof manifest.mediaType === 'string' ? manifest.mediaType : OCI_MANIFEST;
    const subject = (manifest.subject as Descriptor | undefined)?.digest;
    const artifactType = typeof manifest.artifactType === 'string' ? manifest.artifactType : undefined;
    const annotations = manifest.annotations as Record<string, string> | undefined;
    const repository = this.repository(repositoryName);
    repository.manifests.set(digest, { mediaType, bytes, subject, artifactType, annotations });
    for (const tag of tags) repository.tags.set(tag, digest);
    return { mediaType, digest, size: bytes.length };
  }

  /** Pushes a single-platform image (config + layers + manifest). */
  pushImage(
    repositoryName: string,
    spec: ImageSpec = {},
  ): Descriptor & { readonly configDigest: string; readonly layerDigests: string[] } {
    const config: Record<string, unknown> = {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    };
    if (spec.created !== undefined) config.created = spec.created;
    if (spec.salt !== undefined) config.salt = spec.salt;
    const configDescriptor = this.putBlob(repositoryName, json(config), spec.configMediaType ?? OCI_IMAGE_CONFIG);
    const layerContents = spec.layers ?? [
      `layer of ${spec.tags?.join(',') ?? ''} ${spec.salt ?? ''} ${spec.created ?? ''}`,
    ];
    const layers = layerContents.map((content) =>
      this.putBlob(repositoryName, encoder.encode(content), spec.layerMediaType ?? OCI_LAYER),
    );
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: spec.mediaType ?? OCI_MANIFEST,
      config: configDescriptor,
      layers,
    };
    if (spec.artifactType !== undefined) manifest.artifactType = spec.artifactType;
    if (spec.subject !== undefined) manifest.subject = this.descriptorOf(repositoryName, spec.subject);
    if (spec.annotations !== undefined) manifest.annotations = spec.annotations;
    const descriptor = this.putManifest(repositoryName, manifest, spec.tags);
    return { ...descriptor, configDigest: configDescriptor.digest, layerDigests: layers.map((layer) => layer.digest) };
  }

  /** Pushes an index (manifest list) over manifests already pushed. */
  pushIndex(repositoryName: string, spec: IndexSpec): Descriptor {
    const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: spec.children };
    if (spec.annotations !== undefined) manifest.annotations = spec.annotations;
    return this.putManifest(repositoryName, manifest, spec.tags);
  }

  /** Descriptor of a stored manifest (to use as a child or a subject). */
  descriptorOf(repositoryName: string, digest: string, extra: Partial<Descriptor> = {}): Descriptor {
    const stored = this.repository(repositoryName).manifests.get(digest);
    if (!stored) throw new Error(`fake registry: no manifest ${digest} in ${repositoryName}`);
    return { mediaType: stored.mediaType, digest, size: stored.bytes.length, ...extra };
  }

  tagsOf(repositoryName: string): Map<string, string> {
    return new Map(this.repository(repositoryName).tags);
  }

  hasManifest(repositoryName: string, digest: string): boolean {
    return this.repository(repositoryName).manifests.has(digest);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const recorded: RecordedRequest = {
      seq: this.seq++,
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization,
      accept: request.headers.accept,
      ...(request.method === 'PUT'
        ? { body: new Uint8Array(Buffer.concat(chunks)), contentType: request.headers['content-type'] }
        : {}),
    };
    this.requests.push(recorded);
    const reply = this.faultReply(recorded) ?? this.route(recorded);
    if (reply === 'reset') {
      request.socket.destroy();
      return;
    }
    const headers: Record<string, string> = { 'docker-distribution-api-version': 'registry/2.0', ...reply.headers };
    let body: Uint8Array | undefined;
    if (reply.body !== undefined) {
      if (typeof reply.body === 'string') body = encoder.encode(reply.body);
      else if (reply.body instanceof Uint8Array) body = reply.body;
      else {
        body = json(reply.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
    }
    headers['content-length'] = String(body?.length ?? 0);
    response.writeHead(reply.status, headers);
    response.end(recorded.method === 'HEAD' ? undefined : body);
  }

  private faultReply(request: RecordedRequest): FakeReply | undefined {
    for (const fault of this.faults) {
      if (fault.replies.length === 0) continue;
      if (fault.method !== undefined && fault.method !== request.method) continue;
      const matches = typeof fault.path === 'string' ? fault.path === request.path : fault.path.test(request.path);
      if (matches) return fault.replies.shift();
    }
    return undefined;
  }

  /** The registry's own routes: a table from path shape to handler. */
  private route(request: RecordedRequest): FakeReply {
    const { path, method } = request;
    if (path === '/token' && method === 'GET') return this.issueToken(request);
    const table: Array<[RegExp, string, (match: RegExpExecArray) => FakeReply]> = [
      [/^\/v2\/?$/, 'registry:catalog', () => ({ status: 200, body: {} })],
      [/^\/v2\/_catalog$/, 'registry:catalog', () => this.catalog(request)],
      [/^\/v2\/(.+)\/tags\/list$/, 'repository', (match) => this.tagList(request, match[1]!)],
      [/^\/v2\/(.+)\/manifests\/([^/]+)$/, 'repository', (match) => this.manifest(request, match[1]!, match[2]!)],
      [/^\/v2\/(.+)\/blobs\/([^/]+)$/, 'repository', (match) => this.blob(match[1]!, match[2]!)],
      [
        /^\/v2\/(.+)\/referrers\/([^/]+)$/,
        'repository',
        (match) => this.referrers(match[1]!, match[2]!, request.query.get('after')),
      ],
    ];
    for (const [pattern, resource, handler] of table) {
      const match = pattern.exec(path);
      if (!match) continue;
      const action =
        method === 'DELETE' ? 'delete' : method === 'PUT' ? 'push' : resource === 'registry:catalog' ? '*' : 'pull';
      const scopeKey = resource === 'registry:catalog' ? 'registry:catalog' : `repository:${match[1]}`;
      const denied = this.authorize(request, scopeKey, action);
      if (denied) return denied;
      return handler(match);
    }
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' };
  }

  private authorize(request: RecordedRequest, scopeKey: string, action: string): FakeReply | undefined {
    const auth = this.options.auth;
    if (!auth) return undefined;
    const unauthorized = (header: string): FakeReply => ({
      status: 401,
      headers: { 'www-authenticate': header },
      body: errorBody('UNAUTHORIZED', 'authentication required'),
    });
    if (auth.kind === 'basic') {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      return request.authorization === expected ? undefined : unauthorized('Basic realm="fake"');
    }
    if (auth.kind === 'bearer') {
      return request.authorization === `Bearer ${auth.token}`
        ? undefined
        : unauthorized(`Bearer realm="${this.url}/token",service="fake-registry"`);
    }
    const token = /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1];
    const granted = token ? this.tokens.get(token)?.scopes.get(scopeKey) : undefined;
    if (granted && (granted.has(action) || granted.has('*'))) return undefined;
    return unauthorized(`Bearer realm="${this.url}/token",service="fake-registry",scope="${scopeKey}:${action}"`);
  }

  private issueToken(request: RecordedRequest): FakeReply {
    const auth = this.options.auth;
    const scopes = request.query.getAll('scope');
    const expected =
      auth?.kind === 'token' && auth.username !== undefined
        ? `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`
        : undefined;
    const basicOk = expected === undefined || request.authorization === expected;
    this.tokenRequests.push({ scopes, service: request.query.get('service'), basicOk });
    if (!basicOk) return { status: 401, body: { details: 'incorrect username or password' } };
    const token = `fake-token-${++this.tokenCounter}`;
    this.tokens.set(token, { scopes: grantedActions(scopes) });
    const lifetime = auth?.kind === 'token' ? (auth.tokenLifetimeS ?? 300) : 300;
    return { status: 200, body: { token, expires_in: lifetime } };
  }

  private page(
    request: RecordedRequest,
    all: readonly string[],
    basePath: string,
    extra: (items: string[]) => object,
  ): FakeReply {
    const n = request.query.get('n');
    const maxN = this.options.maxN ?? 1000;
    if (n !== null && Number(n) > maxN) {
      return {
        status: 400,
        body: {
          errors: [
            {
              code: 'PAGINATION_NUMBER_INVALID',
              message: 'invalid number of results requested',
              detail: { n: Number(n) },
            },
          ],
        },
      };
    }
    const pageSize = Math.min(this.options.pageSize ?? 100, n === null ? Infinity : Number(n));
    const last = request.query.get('last');
    const rest = last === null ? [...all] : all.filter((item) => item > last);
    const items = rest.slice(0, pageSize);
    const headers: Record<string, string> = {};
    if (rest.length > items.length) {
      const next = `${basePath}?last=${encodeURIComponent(items[items.length - 1]!)}&n=${pageSize}`;
      headers.link = `<${this.options.linkStyle === 'absolute' ? this.url + next : next}>; rel="next"`;
    }
    return { status: 200, headers, body: extra(items) };
  }

  private catalog(request: RecordedRequest): FakeReply {
    return this.page(request, [...this.repositories.keys()].sort(), '/v2/_catalog', (repositories) => ({
      repositories,
    }));
  }

  private tagList(request: RecordedRequest, name: string): FakeReply {
    const repository = this.repositories.get(name);
    if (!repository) return { status: 404, body: errorBody('NAME_UNKNOWN', 'repository name not known to registry') };
    const tags = [...repository.tags.keys()].sort();
    if (tags.length === 0) return { status: 200, body: { name, tags: null } };
    if (this.options.pageTags === false) return { status: 200, body: { name, tags } };
    return this.page(request, tags, `/v2/${name}/tags/list`, (items) => ({ name, tags: items }));
  }

  private manifest(request: RecordedRequest, name: string, reference: string): FakeReply {
    const repository = this.repositories.get(name);
    if (!repository) return { status: 404, body: errorBody('NAME_UNKNOWN', 'repository name not known to registry') };
    const isDigest = reference.startsWith('sha256:');
    const digest = isDigest ? reference : repository.tags.get(reference);
    if (request.method === 'PUT') return this.manifestPut(request, name, reference);
    if (request.method === 'DELETE') {
      if (this.options.deleteEnabled === false)
        return { status: 405, body: errorBody('UNSUPPORTED', 'The operation is unsupported.') };
      // DELETE by tag is OCI 1.1; registry 2.8 answers 400 DIGEST_INVALID.
      if (!isDigest && this.options.tagDelete !== true)
        return { status: 400, body: errorBody('DIGEST_INVALID', 'provided digest did not match uploaded content') };
      if (!isDigest) {
        if (!repository.tags.delete(reference))
          return { status: 404, body: errorBody('MANIFEST_UNKNOWN', 'manifest unknown') };
        return { status: 202 };
      }
      if (!repository.manifests.delete(reference))
        return { status: 404, body: errorBody('MANIFEST_UNKNOWN', 'manifest unknown') };
      for (const [tag, target] of repository.tags) if (target === reference) repository.tags.delete(tag);
      return { status: 202 };
    }
    const stored = digest === undefined ? undefined : repository.manifests.get(digest);
    if (!stored || digest === undefined)
      return { status: 404, body: errorBody('MANIFEST_UNKNOWN', 'manifest unknown') };
    return {
      status: 200,
      headers: { 'content-type': stored.mediaType, 'docker-content-digest': digest },
      body: stored.bytes,
    };
  }

  /**
   * `PUT /v2/<name>/manifests/<reference>` as registry 2.8 answers it: the manifest is stored under
   * the digest of its bytes (and the tag, when the reference is one) once every blob it names is in
   * the repository (else 400 MANIFEST_BLOB_UNKNOWN); 201 with Location and Docker-Content-Digest.
   */
  private manifestPut(request: RecordedRequest, name: string, reference: string): FakeReply {
    const repository = this.repository(name);
    const bytes = request.body ?? new Uint8Array();
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && reference !== digest)
      return { status: 400, body: errorBody('DIGEST_INVALID', 'provided digest did not match uploaded content') };
    let parsed: { config?: { digest?: string }; layers?: Array<{ digest?: string }>; subject?: { digest?: string } };
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes)) as typeof parsed;
    } catch {
      return { status: 400, body: errorBody('MANIFEST_INVALID', 'manifest invalid') };
    }
    const blobs = [parsed.config?.digest, ...(parsed.layers ?? []).map((layer) => layer.digest)].filter(
      (blob): blob is string => blob !== undefined,
    );
    const missing = blobs.find((blob) => !repository.blobs.has(blob));
    if (missing !== undefined)
      return { status: 400, body: errorBody('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${missing}`) };
    const mediaType = request.contentType ?? OCI_MANIFEST;
    repository.manifests.set(digest, {
      mediaType,
      bytes,
      ...(parsed.subject?.digest ? { subject: parsed.subject.digest } : {}),
    });
    if (!reference.startsWith('sha256:')) repository.tags.set(reference, digest);
    return { status: 201, headers: { location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest } };
  }

  private blob(name: string, digest: string): FakeReply {
    const bytes = this.repositories.get(name)?.blobs.get(digest);
    if (!bytes) return { status: 404, body: errorBody('BLOB_UNKNOWN', 'blob unknown to registry') };
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'docker-content-digest': digest },
      body: bytes,
    };
  }

  private referrers(name: string, digest: string, after: string | null = null): FakeReply {
    if (!this.options.referrersApi)
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' };
    const repository = this.repository(name);
    const manifests = [...repository.manifests.entries()]
      .filter(([, stored]) => stored.subject === digest)
      .map(([referrerDigest, stored]) => ({
        mediaType: stored.mediaType,
        digest: referrerDigest,
        size: stored.bytes.length,
        ...(stored.artifactType ? { artifactType: stored.artifactType } : {}),
        ...(stored.annotations ? { annotations: stored.annotations } : {}),
      }))
      .sort((a, b) => a.digest.localeCompare(b.digest))
      .filter((descriptor) => after === null || descriptor.digest > after);
    const size = this.options.referrersPageSize ?? Infinity;
    const page = manifests.slice(0, size);
    const headers: Record<string, string> = { 'content-type': OCI_INDEX };
    if (manifests.length > size)
      headers.link = `</v2/${name}/referrers/${digest}?after=${page.at(-1)!.digest}>; rel="next"`;
    return { status: 200, headers, body: { schemaVersion: 2, mediaType: OCI_INDEX, manifests: page } };
  }
}
