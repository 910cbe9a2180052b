import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeCertificate } from './tls.js';

/** The AAD token the test credential hands the SDK; /oauth2/exchange accepts only this one. */
export const FAKE_AAD_TOKEN = 'fake-aad-access-token';

/** A TokenCredential-shaped object the SDK accepts (structural: no @azure import needed here). */
export const fakeAadCredential = {
  getToken: async () => ({ token: FAKE_AAD_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const COSIGN_SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';

export interface PushSpec {
  readonly tags?: readonly string[];
  /** ACR `lastUpdateTime`. */
  readonly updatedAt: Date;
  /** `image` (default), `index` (give `children`), or `signature` (give `subject`). */
  readonly kind?: 'image' | 'index' | 'signature';
  readonly children?: readonly string[];
  readonly subject?: string;
  readonly architecture?: string;
  readonly sizeBytes?: number;
  /** `changeableAttributes.deleteEnabled: false`. */
  readonly locked?: boolean;
  /** `changeableAttributes.writeEnabled` (default true): `az acr repository update --write-enabled false`. */
  readonly writeEnabled?: boolean;
}

/** A manifest's or tag's lock attributes (`changeableAttributes`), as `az acr repository update` sets them. */
export interface LockSpec {
  readonly deleteEnabled?: boolean;
  readonly writeEnabled?: boolean;
}

/** ACR's answer to a delete of a locked manifest or tag (HTTP 405). */
const DISALLOWED = {
  errors: [
    {
      code: 'REGISTRY_DISALLOWED_OPERATION',
      message: 'The operation is disallowed on this registry, repository or image.',
    },
  ],
};

interface StoredManifest {
  digest: string;
  body: string;
  mediaType: string;
  tags: string[];
  createdTime: string;
  lastUpdateTime: string;
  imageSize: number;
  architecture?: string;
  os?: string;
  references?: { digest: string; architecture: string; os: string }[];
  subject?: string;
  deleteEnabled: boolean;
  writeEnabled: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  /** Decoded path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  status: number;
  /** The JSON body answered, if any (held to the swagger by test/wire/acr-fake-spec.test.ts). */
  body?: unknown;
  /** Response headers set by the route (lower-case names). */
  headers?: Record<string, string>;
}

export interface Fault {
  readonly method?: string;
  /** Tested against `path?query` (decoded path). */
  readonly path?: RegExp;
  readonly status: number;
  /** How many matching requests fail (then the fault is spent). */
  times: number;
  readonly headers?: Record<string, string>;
}

type Scope = string | null;
interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** The token scope the route needs, from the path match; null = no auth (token endpoints). */
  readonly scope: (match: RegExpExecArray) => Scope;
  readonly handle: (ctx: RouteContext) => void;
}
interface RouteContext {
  readonly match: RegExpExecArray;
  readonly query: URLSearchParams;
  readonly form: URLSearchParams;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class FakeAcr {
  /** PEM of the server certificate: give it to the client as its CA. */
  readonly ca: string;
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  /** Default page size when a listing has no `n`. */
  defaultPageSize = 100;
  /** Largest page the server answers whatever `n` asks (the SDK must follow `Link`). */
  maxPageSize = 1000;
  /** A broken server: every `Link` points back at the first page, so paging would never end. */
  circularLinks = false;
  private readonly server: Server;
  private readonly repositories = new Map<string, Map<string, StoredManifest>>();
  /** Per repository, each tag's own attributes (a tag lock is the tag's, not its manifest's). */
  private readonly tagLocks = new Map<string, Map<string, Required<LockSpec>>>();
  /** Deleted manifests by `repository@digest`: a page whose `last` vanished continues after its place. */
  private readonly removed = new Map<string, StoredManifest>();
  private readonly refreshTokens = new Set<string>();
  private readonly accessTokens = new Map<string, string>();
  private readonly scheduled: { atRequest: number; action: () => void }[] = [];
  private seq = 0;
  private current: RecordedRequest | null = null;
  private host = '';
  private readonly routes: Route[];

  private constructor(tls: { key: string; cert: string }) {
    this.ca = tls.cert;
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => void this.serve(req, res));
    const repoScope = (action: string) => (m: RegExpExecArray) => `repository:${m[1]}:${action}`;
    this.routes = [
      { method: 'POST', pattern: /^\/oauth2\/exchange$/, scope: () => null, handle: (c) => this.exchange(c) },
      { method: 'POST', pattern: /^\/oauth2\/token$/, scope: () => null, handle: (c) => this.token(c) },
      {
        method: 'GET',
        pattern: /^\/acr\/v1\/_catalog$/,
        scope: () => 'registry:catalog:*',
        handle: (c) => this.catalog(c),
      },
      {
        method: 'GET',
        pattern: /^\/acr\/v1\/(.+)\/_manifests$/,
        scope: repoScope('metadata_read'),
        handle: (c) => this.listManifests(c),
      },
      {
        method: 'GET',
        pattern: /^\/acr\/v1\/(.+)\/_manifests\/(sha256:[0-9a-f]{64})$/,
        scope: repoScope('metadata_read'),
        handle: (c) => this.manifestAttributes(c),
      },
      {
        method: 'GET',
        pattern: /^\/acr\/v1\/(.+)\/_tags$/,
        scope: repoScope('metadata_read'),
        handle: (c) => this.listTags(c),
      },
      {
        method: 'GET',
        pattern: /^\/acr\/v1\/(.+)\/_tags\/([^/]+)$/,
        scope: repoScope('metadata_read'),
        handle: (c) => this.getTag(c),
      },
      {
        method: 'DELETE',
        pattern: /^\/acr\/v1\/(.+)\/_tags\/([^/]+)$/,
        scope: repoScope('delete'),
        handle: (c) => this.deleteTag(c),
      },
      {
        method: 'GET',
        pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
        scope: repoScope('pull'),
        handle: (c) => this.getManifest(c),
      },
      {
        method: 'DELETE',
        pattern: /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/,
        scope: repoScope('delete'),
        handle: (c) => this.deleteManifest(c),
      },
    ];
  }

  /** Starts a fake on 127.0.0.1 and a free port. */
  static async start(): Promise<FakeAcr> {
    const fake = new FakeAcr(makeCertificate());
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.host = `127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  get endpoint(): string {
    return `https://${this.host}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Forget requests, faults and scheduled actions (not images or tokens). */
  resetLog(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.scheduled.length = 0;
  }

  /** Requests matching a method and path pattern. */
  count(method?: string, path?: RegExp): number {
    return this.requests.filter((r) => (!method || r.method === method) && (!path || path.test(r.path))).length;
  }

  /** Fail matching requests `times` times with `status` (and headers, e.g. Retry-After). */
  fail(fault: Fault): void {
    this.faults.push(fault);
  }

  /** Run `action` just before serving the request number `atRequest` (1-based, counted from now). */
  at(afterRequests: number, action: () => void): void {
    this.scheduled.push({ atRequest: this.requests.length + afterRequests, action });
  }

  /** Every access token issued so far stops working (as after its 75-minute life). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Every refresh token stops working too (as after its 3-hour life): clients must exchange anew. */
  expireRefreshTokens(): void {
    this.refreshTokens.clear();
    this.accessTokens.clear();
  }

  /** Adds a manifest (with its tags, moving them off any other manifest) and returns its digest. */
  push(repository: string, spec: PushSpec): string {
    const repo = this.repositories.get(repository) ?? new Map<string, StoredManifest>();
    this.repositories.set(repository, repo);
    const seq = ++this.seq;
    const kind = spec.kind ?? 'image';
    let stored: Omit<StoredManifest, 'digest'>;
    const base = {
      tags: [...(spec.tags ?? [])],
      createdTime: spec.updatedAt.toISOString(),
      lastUpdateTime: spec.updatedAt.toISOString(),
      deleteEnabled: !spec.locked,
      writeEnabled: spec.writeEnabled ?? true,
    };
    if (kind === 'index') {
      const refs = (spec.children ?? []).map((digest) => {
        const child = repo.get(digest);
        if (!child) throw new Error(`fake-acr: push an index's children first (${digest})`);
        return {
          digest,
          architecture: child.architecture ?? 'amd64',
          os: child.os ?? 'linux',
          size: child.body.length,
        };
      });
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: refs.map((r) => ({
          mediaType: OCI_MANIFEST,
          digest: r.digest,
          size: r.size,
          platform: { architecture: r.architecture, os: r.os },
        })),
        annotations: { 'fake.seq': String(seq) },
      });
      stored = {
        ...base,
        body,
        mediaType: OCI_INDEX,
        imageSize: spec.sizeBytes ?? 0,
        references: refs.map(({ digest, architecture, os }) => ({ digest, architecture, os })),
      };
    } else if (kind === 'signature') {
      if (!spec.subject) throw new Error('fake-acr: a signature needs a subject');
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: COSIGN_SIG,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
        layers: [
          { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha256(`sig-${seq}`), size: 200 },
        ],
        subject: { mediaType: OCI_MANIFEST, digest: spec.subject, size: 1 },
      });
      stored = { ...base, body, mediaType: OCI_MANIFEST, imageSize: spec.sizeBytes ?? 200, subject: spec.subject };
    } else {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(`config-${seq}`), size: 1000 },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(`layer-${seq}`), size: 5000 },
        ],
      });
      stored = {
        ...base,
        body,
        mediaType: OCI_MANIFEST,
        imageSize: spec.sizeBytes ?? 6000,
        architecture: spec.architecture ?? 'amd64',
        os: 'linux',
      };
    }
    const digest = sha256(stored.body);
    for (const other of repo.values()) other.tags = other.tags.filter((t) => !stored.tags.includes(t));
    repo.set(digest, { ...stored, digest });
    return digest;
  }

  /** Points an existing tag (or a new one) at a digest, as `docker push` of an old build would. */
  tag(repository: string, tag: string, digest: string): void {
    const repo = this.repositories.get(repository);
    const target = repo?.get(digest);
    if (!repo || !target) throw new Error(`fake-acr: no ${repository}@${digest}`);
    for (const other of repo.values()) other.tags = other.tags.filter((t) => t !== tag);
    target.tags.push(tag);
  }

  /** Removes a manifest as another client's delete would (tests: a page's `last` vanishing mid-listing). */
  drop(repository: string, digest: string): void {
    const manifest = this.repositories.get(repository)?.get(digest);
    if (!manifest) throw new Error(`fake-acr: no ${repository}@${digest}`);
    this.remove(repository, manifest);
  }

  /** Sets a manifest's own attributes (`az acr repository update --image repo@digest`). */
  lockManifest(repository: string, digest: string, lock: LockSpec): void {
    const manifest = this.repositories.get(repository)?.get(digest);
    if (!manifest) throw new Error(`fake-acr: no ${repository}@${digest}`);
    manifest.deleteEnabled = lock.deleteEnabled ?? manifest.deleteEnabled;
    manifest.writeEnabled = lock.writeEnabled ?? manifest.writeEnabled;
  }

  /** Sets a tag's own attributes (`az acr repository update --image repo:tag`). */
  lockTag(repository: string, tag: string, lock: LockSpec): void {
    const locks = this.tagLocks.get(repository) ?? new Map<string, Required<LockSpec>>();
    this.tagLocks.set(repository, locks);
    const current = this.tagLock(repository, tag);
    locks.set(tag, {
      deleteEnabled: lock.deleteEnabled ?? current.deleteEnabled,
      writeEnabled: lock.writeEnabled ?? current.writeEnabled,
    });
  }

  private tagLock(repository: string, tag: string): Required<LockSpec> {
    return this.tagLocks.get(repository)?.get(tag) ?? { deleteEnabled: true, writeEnabled: true };
  }

  private tagLocked(repository: string, tag: string): boolean {
    const lock = this.tagLock(repository, tag);
    return !lock.deleteEnabled || !lock.writeEnabled;
  }

  /** Digests present in a repository now. */
  digests(repository: string): string[] {
    return [...(this.repositories.get(repository)?.keys() ?? [])];
  }

  /** Tags present in a repository now. */
  tags(repository: string): string[] {
    return [...(this.repositories.get(repository)?.values() ?? [])].flatMap((m) => m.tags).sort();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.endpoint);
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path, query: url.searchParams, status: 0 };
    this.requests.push(record);
    for (const item of this.scheduled.filter((s) => s.atRequest === this.requests.length)) item.action();
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      record.body = body;
      record.headers = headers;
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };

    const fault = this.faults.find(
      (f) => f.times > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(`${path}${url.search}`)),
    );
    if (fault) {
      fault.times -= 1;
      return send(
        fault.status,
        { errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'injected fault' }] },
        fault.headers,
      );
    }

    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const scope = route.scope(match);
      if (scope !== null && !this.authorized(req, scope)) {
        return send(
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          {
            'www-authenticate': `Bearer realm="${this.endpoint}/oauth2/token",service="${this.host}",scope="${scope}"`,
          },
        );
      }
      const ctx: RouteContext = {
        match,
        query: url.searchParams,
        form: new URLSearchParams(Buffer.concat(chunks).toString()),
        req,
        res,
      };
      const originalWriteHead = res.writeHead.bind(res);
      res.writeHead = ((status: number, ...rest: unknown[]) => {
        record.status = status;
        return (originalWriteHead as (...args: unknown[]) => ServerResponse)(status, ...rest);
      }) as typeof res.writeHead;
      // Handlers answer synchronously: `json()` records its body on the request being served.
      this.current = record;
      try {
        return route.handle(ctx);
      } finally {
        this.current = null;
      }
    }
    send(404, { errors: [{ code: 'NAME_UNKNOWN', message: `no route for ${method} ${path}` }] });
  }

  private authorized(req: IncomingMessage, scope: string): boolean {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const granted = this.accessTokens.get(token);
    return granted !== undefined && granted.split(' ').includes(scope);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (this.current) {
      this.current.body = body;
      this.current.headers = headers;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private notFound(res: ServerResponse, what: string): void {
    this.json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: `${what} not found` }] });
  }

  private exchange({ form, res }: RouteContext): void {
    if (
      form.get('grant_type') !== 'access_token' ||
      form.get('access_token') !== FAKE_AAD_TOKEN ||
      form.get('service') !== this.host
    ) {
      return this.json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad AAD token or service' }] });
    }
    const claims = { exp: Math.floor(Date.now() / 1000) + 3 * 3600, jti: randomUUID() };
    const refreshToken = `${base64url({ alg: 'none' })}.${base64url(claims)}.sig`;
    this.refreshTokens.add(refreshToken);
    this.json(res, 200, { refresh_token: refreshToken });
  }

  private token({ form, res }: RouteContext): void {
    const refreshToken = form.get('refresh_token') ?? '';
    if (
      form.get('grant_type') !== 'refresh_token' ||
      !this.refreshTokens.has(refreshToken) ||
      form.get('service') !== this.host
    ) {
      return this.json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'refresh token expired or invalid' }] });
    }
    const accessToken = `access-${randomUUID()}`;
    this.accessTokens.set(accessToken, form.get('scope') ?? '');
    this.json(res, 200, { access_token: accessToken });
  }

  /**
   * One page of `items` after `last`, with a `Link` to the next page when more remain. When `last`
   * is gone (deleted since the previous page), the page starts at the first item after where it
   * was: "lexically after last" (swagger `QueryLast`), or, in a time-ordered listing, after its place
   * in that order (`after`). Never back at the first page.
   */
  private page<T>(
    items: T[],
    key: (item: T) => string,
    query: URLSearchParams,
    path: string,
    after: (last: string) => (item: T) => boolean = (last) => (item) => key(item) > last,
  ): { items: T[]; link?: string } {
    const n = Math.min(Number(query.get('n') ?? this.defaultPageSize), this.maxPageSize);
    const last = query.get('last');
    let start = last === null ? 0 : items.findIndex((item) => key(item) === last) + 1;
    if (last !== null && start === 0) {
      const isAfter = after(last);
      start = items.findIndex(isAfter);
      if (start === -1) start = items.length;
    }
    const slice = items.slice(start, start + n);
    if (start + n >= items.length || slice.length === 0) return { items: slice };
    const next = new URLSearchParams(query);
    if (this.circularLinks) next.delete('last');
    else next.set('last', key(slice[slice.length - 1]!));
    next.set('n', String(n));
    return { items: slice, link: `<${path}?${next.toString()}>; rel="next"` };
  }

  private catalog({ query, res }: RouteContext): void {
    const names = [...this.repositories.keys()].filter((name) => this.repositories.get(name)!.size > 0).sort();
    const { items, link } = this.page(names, (name) => name, query, '/acr/v1/_catalog');
    this.json(res, 200, { repositories: items }, link ? { link } : {});
  }

  private ordered(repository: string, orderby: string | null): StoredManifest[] {
    return [...(this.repositories.get(repository)?.values() ?? [])].sort(this.order(orderby));
  }

  private order(orderby: string | null): (a: StoredManifest, b: StoredManifest) => number {
    const byDigest = (a: StoredManifest, b: StoredManifest) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
    if (orderby === 'timedesc') return (a, b) => b.lastUpdateTime.localeCompare(a.lastUpdateTime) || byDigest(a, b);
    if (orderby === 'timeasc') return (a, b) => a.lastUpdateTime.localeCompare(b.lastUpdateTime) || byDigest(a, b);
    return byDigest;
  }

  private listManifests({ match, query, res }: RouteContext): void {
    const repository = match[1]!;
    if (!this.repositories.has(repository)) return this.notFound(res, `repository ${repository}`);
    const orderby = query.get('orderby');
    const order = this.order(orderby);
    const { items, link } = this.page(
      this.ordered(repository, orderby),
      (m) => m.digest,
      query,
      `/acr/v1/${repository}/_manifests`,
      (last) => {
        const gone = this.removed.get(`${repository}@${last}`);
        return gone ? (m) => order(m, gone) > 0 : (m) => m.digest > last;
      },
    );
    this.json(
      res,
      200,
      {
        registry: this.host,
        imageName: repository,
        manifests: items.map((m) => this.manifestJson(m)),
      },
      link ? { link } : {},
    );
  }

  /** ACR's `ManifestAttributesBase` (data-plane 2021-07-01). */
  private manifestJson(m: StoredManifest) {
    return {
      digest: m.digest,
      imageSize: m.imageSize,
      createdTime: m.createdTime,
      lastUpdateTime: m.lastUpdateTime,
      ...(m.architecture ? { architecture: m.architecture, os: m.os } : {}),
      ...(m.references ? { references: m.references } : {}),
      ...(m.tags.length > 0 ? { tags: m.tags } : {}),
      changeableAttributes: {
        deleteEnabled: m.deleteEnabled,
        writeEnabled: m.writeEnabled,
        listEnabled: true,
        readEnabled: true,
      },
    };
  }

  /** `GET /acr/v1/{name}/_manifests/{digest}`: `{registry, imageName, manifest}`. */
  private manifestAttributes({ match, res }: RouteContext): void {
    const [, repository, digest] = match as unknown as [string, string, string];
    const manifest = this.repositories.get(repository)?.get(digest);
    if (!manifest) return this.notFound(res, `manifest ${repository}@${digest}`);
    this.json(res, 200, { registry: this.host, imageName: repository, manifest: this.manifestJson(manifest) });
  }

  private tagRows(repository: string): { name: string; manifest: StoredManifest }[] {
    return this.ordered(repository, null).flatMap((manifest) => manifest.tags.map((name) => ({ name, manifest })));
  }

  /** ACR's `TagAttributesBase`: the tag's own attributes, not its manifest's. */
  private tagJson(repository: string, row: { name: string; manifest: StoredManifest }) {
    const lock = this.tagLock(repository, row.name);
    return {
      name: row.name,
      digest: row.manifest.digest,
      createdTime: row.manifest.createdTime,
      lastUpdateTime: row.manifest.lastUpdateTime,
      changeableAttributes: {
        deleteEnabled: lock.deleteEnabled,
        writeEnabled: lock.writeEnabled,
        listEnabled: true,
        readEnabled: true,
      },
    };
  }

  private listTags({ match, query, res }: RouteContext): void {
    const repository = match[1]!;
    if (!this.repositories.has(repository)) return this.notFound(res, `repository ${repository}`);
    const digest = query.get('digest');
    const rows = this.tagRows(repository)
      .filter((row) => digest === null || row.manifest.digest === digest)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const { items, link } = this.page(rows, (row) => row.name, query, `/acr/v1/${repository}/_tags`);
    this.json(
      res,
      200,
      { registry: this.host, imageName: repository, tags: items.map((row) => this.tagJson(repository, row)) },
      link ? { link } : {},
    );
  }

  private getTag({ match, res }: RouteContext): void {
    const [, repository, tag] = match as unknown as [string, string, string];
    const row = this.tagRows(repository).find((r) => r.name === tag);
    if (!row) return this.notFound(res, `tag ${repository}:${tag}`);
    this.json(res, 200, { registry: this.host, imageName: repository, tag: this.tagJson(repository, row) });
  }

  private deleteTag({ match, res }: RouteContext): void {
    const [, repository, tag] = match as unknown as [string, string, string];
    const row = this.tagRows(repository).find((r) => r.name === tag);
    if (!row) return this.notFound(res, `tag ${repository}:${tag}`);
    if (this.tagLocked(repository, tag)) return this.json(res, 405, DISALLOWED);
    row.manifest.tags = row.manifest.tags.filter((t) => t !== tag);
    res.writeHead(202);
    res.end();
  }

  private remove(repository: string, manifest: StoredManifest): void {
    this.repositories.get(repository)?.delete(manifest.digest);
    this.removed.set(`${repository}@${manifest.digest}`, manifest);
  }

  private getManifest({ match, res }: RouteContext): void {
    const [, repository, reference] = match as unknown as [string, string, string];
    const repo = this.repositories.get(repository);
    const manifest = reference.startsWith('sha256:')
      ? repo?.get(reference)
      : [...(repo?.values() ?? [])].find((m) => m.tags.includes(reference));
    if (!manifest) return this.notFound(res, `manifest ${repository}@${reference}`);
    res.writeHead(200, { 'content-type': manifest.mediaType, 'docker-content-digest': manifest.digest });
    res.end(manifest.body);
  }

  private deleteManifest({ match, res }: RouteContext): void {
    const [, repository, digest] = match as unknown as [string, string, string];
    const repo = this.repositories.get(repository);
    const manifest = repo?.get(digest);
    if (!repo || !manifest) return this.notFound(res, `manifest ${repository}@${digest}`);
    // Deleting a manifest deletes its tags, so a locked tag refuses it as a locked manifest does.
    const locked =
      !manifest.deleteEnabled || !manifest.writeEnabled || manifest.tags.some((tag) => this.tagLocked(repository, tag));
    if (locked) return this.json(res, 405, DISALLOWED);
    this.remove(repository, manifest);
    // ACR deletes a subject's referrers (signatures, SBOMs) with it.
    for (const other of [...repo.values()]) if (other.subject === digest) this.remove(repository, other);
    res.writeHead(202);
    res.end();
  }
}
