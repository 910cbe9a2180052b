/**
 * A reverse proxy in front of a real registry that the CLI is pointed at (config `endpoint` = the
 * proxy), for the fault matrix (issue 11, item 7). It forwards every request, except where a rule
 * injects a fault: a status (500, or 429 with `Retry-After`) instead of forwarding, or a connection
 * reset before the registry sees the request or after it has acted on it. Hooks see each request,
 * classified (a DELETE of an index, a platform child, an image, a signature…) and counted, and may
 * hold it while the test acts at that precise point: SIGKILL the CLI, move a tag directly on the
 * registry, restart the registry.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MANIFEST_ACCEPT, MEDIA_TYPES } from './seed.js';

/** What a request asks for, from its path. */
export type ResourceKind = 'base' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'upload' | 'other';

/**
 * What a manifest is: `child` is a platform manifest an index lists, `attestation` buildx's in-toto
 * manifest inside an index, `referrer` an OCI 1.1 artifact with a `subject`, `referrer-index` the
 * referrers fallback index (tag `sha256-<hex>`) listing such artifacts, `signature` a cosign signature.
 * `child`, `attestation` and `referrer` are followers: untagged, reachable only through another manifest.
 */
export type ManifestKind =
  | 'index'
  | 'child'
  | 'image'
  | 'signature'
  | 'attestation'
  | 'referrer'
  | 'referrer-index'
  | 'unknown';

/** The kinds that have no tag of their own: deleting their parent first and then failing strands them. */
export const FOLLOWER_KINDS: readonly ManifestKind[] = ['child', 'attestation', 'referrer'];

export interface ProxiedRequest {
  /** 1-based position among every request the proxy received. */
  readonly seq: number;
  /** `performance.now()` when it arrived. */
  readonly arrivedAtMs: number;
  readonly method: string;
  /** Path and query, as received. */
  readonly path: string;
  readonly resource: ResourceKind;
  /** Repository name, for manifest, blob, tags and upload paths. */
  readonly repository: string | null;
  /** Tag or digest, for manifest and blob paths. */
  readonly reference: string | null;
  /** For a DELETE of a manifest: what it deletes (classified before forwarding); otherwise null. */
  readonly manifestKind: ManifestKind | null;
  /** 1-based position among requests of the same `key`. */
  readonly nth: number;
  /** `DELETE index`, `DELETE child`… for manifest deletes; `GET tags`, `HEAD manifest`… otherwise. */
  readonly key: string;
}

/** What a rule does to a request it picks. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  /** `after: false`: the registry never sees the request; `after: true`: it acts, the client never hears. */
  | { readonly kind: 'reset'; readonly after: boolean };

/** Decides, for each request a rule matches (in order), whether to inject the fault. */
export type Picker = (request: ProxiedRequest) => boolean;

export interface FaultRule {
  /** Named in the log and in `injected()`. */
  readonly name: string;
  readonly match: (request: ProxiedRequest) => boolean;
  readonly pick: Picker;
  readonly fault: Fault;
}

/** One line of what the proxy did. */
export interface ProxyLogEntry {
  readonly request: ProxiedRequest;
  /** `performance.now()` when the answer (or reset) went out. */
  readonly atMs: number;
  /** Status sent, `reset`, or `upstream-down` (answered 502 because the registry did not answer). */
  readonly outcome: number | 'reset' | 'upstream-down';
  /** The rule that injected a fault, if one did. */
  readonly injectedBy?: string;
}

export interface ProxyHooks {
  /** Every request, as it arrives (before any rule). Awaited: the request waits. */
  onRequest?(request: ProxiedRequest): Promise<void> | void;
  /**
   * A request about to be forwarded (no rule faulted it). Awaited. Answering `'drop'` resets the
   * connection instead, so the registry never sees it (e.g. the client was just killed).
   */
  beforeForward?(request: ProxiedRequest): Promise<'drop' | undefined> | 'drop' | undefined;
  /** The registry answered `status`; the client has not heard yet. Awaited. */
  afterForward?(request: ProxiedRequest, status: number): Promise<void> | void;
}

export interface FaultProxyOptions {
  /** The registry, e.g. `http://127.0.0.1:5000` (a function when it may change). */
  readonly upstream: string | (() => string);
  /**
   * What a manifest digest is, from what the test seeded (`undefined`: unknown). Without an answer the
   * proxy GETs the manifest from the registry itself and reads it (it cannot tell a child from an image then).
   */
  readonly classify?: (repository: string, digest: string) => ManifestKind | undefined;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: the endpoint to configure. */
  readonly url: string;
  readonly port: number;
  /** Replaces the fault rules (at run time; the next request sees them). */
  setRules(rules: readonly FaultRule[]): void;
  /** Replaces the hooks. */
  setHooks(hooks: ProxyHooks): void;
  /** Drops rules and hooks: a plain proxy again. */
  reset(): void;
  /** Every request so far. */
  readonly log: readonly ProxyLogEntry[];
  /** Clears the log and the per-key counters (between runs of one test). */
  clearLog(): void;
  /** Requests so far with this key (`DELETE index`, `GET tags`…). */
  count(key: string): number;
  /** Faults injected so far, by rule name. */
  injected(ruleName?: string): number;
  /** Resolves once no request is being forwarded to the registry (at once when none is). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const BLOB_PATH = /^\/v2\/(.+)\/blobs\/([^/]+)$/;
const UPLOAD_PATH = /^\/v2\/(.+)\/blobs\/uploads\/?.*$/;
const TAGS_PATH = /^\/v2\/(.+)\/tags\/list$/;
const DIGEST = /^sha(256|512):[a-f0-9]+$/;
/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy does not pass on; content-length is set again. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

/** Starts a proxy on a free loopback port in front of `upstream`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstreamUrl = () => (typeof options.upstream === 'string' ? options.upstream : options.upstream());
  let rules: readonly FaultRule[] = [];
  let hooks: ProxyHooks = {};
  const log: ProxyLogEntry[] = [];
  const counters = new Map<string, number>();
  const injectedByRule = new Map<string, number>();
  const kinds = new Map<string, ManifestKind>();
  let seq = 0;
  let forwarding = 0;
  const drainWaiters: Array<() => void> = [];

  const classifyDelete = async (repository: string, digest: string): Promise<ManifestKind> => {
    const known = options.classify?.(repository, digest) ?? kinds.get(`${repository}@${digest}`);
    if (known !== undefined) return known;
    let kind: ManifestKind = 'unknown';
    try {
      const response = await fetch(new URL(`/v2/${repository}/manifests/${digest}`, upstreamUrl()), {
        headers: { accept: MANIFEST_ACCEPT },
      });
      if (response.ok) kind = manifestKindOf(await response.json());
      else await response.arrayBuffer();
    } catch {
      // the registry is down: the kind stays unknown
    }
    if (kind !== 'unknown') kinds.set(`${repository}@${digest}`, kind);
    return kind;
  };

  const describe = async (incoming: IncomingMessage, arrivedAtMs: number): Promise<ProxiedRequest> => {
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    const pathname = new URL(path, 'http://proxy').pathname;
    let resource: ResourceKind = 'other';
    let repository: string | null = null;
    let reference: string | null = null;
    let match: RegExpExecArray | null;
    if (pathname === '/v2/' || pathname === '/v2') resource = 'base';
    else if (pathname === '/v2/_catalog') resource = 'catalog';
    else if ((match = UPLOAD_PATH.exec(pathname))) [resource, repository] = ['upload', match[1]!];
    else if ((match = TAGS_PATH.exec(pathname))) [resource, repository] = ['tags', match[1]!];
    else if ((match = MANIFEST_PATH.exec(pathname)))
      [resource, repository, reference] = ['manifest', match[1]!, match[2]!];
    else if ((match = BLOB_PATH.exec(pathname))) [resource, repository, reference] = ['blob', match[1]!, match[2]!];
    const manifestKind =
      method === 'DELETE' && resource === 'manifest' && repository !== null && reference !== null
        ? DIGEST.test(reference)
          ? await classifyDelete(repository, reference)
          : 'unknown'
        : null;
    const key = manifestKind !== null ? `DELETE ${manifestKind}` : `${method} ${resource}`;
    const nth = (counters.get(key) ?? 0) + 1;
    counters.set(key, nth);
    return { seq: ++seq, arrivedAtMs, method, path, resource, repository, reference, manifestKind, nth, key };
  };

  const note = (request: ProxiedRequest, outcome: ProxyLogEntry['outcome'], injectedBy?: string) => {
    log.push({ request, atMs: performance.now(), outcome, ...(injectedBy ? { injectedBy } : {}) });
  };

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    const arrivedAtMs = performance.now();
    const body = await readAll(incoming);
    const request = await describe(incoming, arrivedAtMs);
    await hooks.onRequest?.(request);
    const rule = rules.find((candidate) => candidate.match(request) && candidate.pick(request));
    if (rule) injectedByRule.set(rule.name, (injectedByRule.get(rule.name) ?? 0) + 1);
    if (rule?.fault.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (rule.fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.fault.retryAfterSeconds);
      const code = rule.fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN';
      outgoing.writeHead(rule.fault.status, headers);
      outgoing.end(JSON.stringify({ errors: [{ code, message: `injected by fault rule "${rule.name}"` }] }));
      note(request, rule.fault.status, rule.name);
      return;
    }
    if (rule?.fault.kind === 'reset' && !rule.fault.after) {
      incoming.socket.destroy();
      note(request, 'reset', rule.name);
      return;
    }
    if ((await hooks.beforeForward?.(request)) === 'drop') {
      incoming.socket.destroy();
      note(request, 'reset');
      return;
    }
    forwarding++;
    let answer: Awaited<ReturnType<typeof forward>>;
    try {
      answer = await forward(upstreamUrl(), incoming, body);
    } finally {
      forwarding--;
      if (forwarding === 0) for (const resolve of drainWaiters.splice(0)) resolve();
    }
    if (answer === null) {
      // What a load balancer in front of a dead registry answers.
      outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'registry did not answer the proxy' }] }));
      note(request, 'upstream-down');
      return;
    }
    await hooks.afterForward?.(request, answer.status);
    if (rule?.fault.kind === 'reset') {
      incoming.socket.destroy();
      note(request, 'reset', rule.name);
      return;
    }
    // A HEAD answer has no body but tells the manifest's length: pass the registry's on.
    const length = request.method === 'HEAD' ? answer.contentLength : String(answer.body.length);
    outgoing.writeHead(answer.status, {
      ...answer.headers,
      ...(length !== undefined ? { 'content-length': length } : {}),
    });
    outgoing.end(request.method === 'HEAD' ? undefined : answer.body);
    note(request, answer.status);
  };

  const server: Server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      // A hook that throws fails the request loudly rather than hanging the client.
      if (!outgoing.headersSent) outgoing.writeHead(599, { 'content-type': 'text/plain' });
      outgoing.end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setRules(next) {
      rules = [...next];
    },
    setHooks(next) {
      hooks = { ...next };
    },
    reset() {
      rules = [];
      hooks = {};
    },
    log,
    clearLog() {
      log.length = 0;
      counters.clear();
      injectedByRule.clear();
    },
    count: (key) => counters.get(key) ?? 0,
    injected: (ruleName) =>
      ruleName === undefined
        ? [...injectedByRule.values()].reduce((sum, n) => sum + n, 0)
        : (injectedByRule.get(ruleName) ?? 0),
    drained: () => (forwarding === 0 ? Promise.resolve() : new Promise<void>((resolve) => drainWaiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a manifest's JSON and says what kind it is (without knowing whether an index lists it). */
export function manifestKindOf(manifest: unknown): ManifestKind {
  if (typeof manifest !== 'object' || manifest === null) return 'unknown';
  const fields = manifest as {
    mediaType?: string;
    manifests?: Array<{ artifactType?: string }>;
    layers?: Array<{ mediaType?: string }>;
    subject?: unknown;
    artifactType?: string;
  };
  if (fields.mediaType === MEDIA_TYPES.ociIndex || fields.mediaType === MEDIA_TYPES.dockerList || fields.manifests) {
    // The referrers fallback index lists artifacts only (each with an artifactType).
    const children = fields.manifests ?? [];
    if (children.length > 0 && children.every((child) => child.artifactType !== undefined)) return 'referrer-index';
    return 'index';
  }
  if (fields.subject !== undefined || fields.artifactType !== undefined) return 'referrer';
  const layerTypes = (fields.layers ?? []).map((layer) => layer.mediaType ?? '');
  if (layerTypes.includes(MEDIA_TYPES.cosignSignature)) return 'signature';
  if (layerTypes.some((type) => type.startsWith('application/vnd.in-toto'))) return 'attestation';
  return 'image';
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  readonly contentLength: string | undefined;
}

/** Sends the request on to the registry and reads its whole answer; `null` when the registry does not answer. */
function forward(upstream: string, incoming: IncomingMessage, body: Buffer): Promise<UpstreamAnswer | null> {
  const target = new URL(incoming.url ?? '/', upstream);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  if (body.length > 0) headers['content-length'] = String(body.length);
  return new Promise((resolve) => {
    const outgoing = httpRequest(target, { method: incoming.method, headers, agent: false }, (response) => {
      readAll(response)
        .then((responseBody) => {
          const responseHeaders: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
          }
          resolve({
            status: response.statusCode ?? 502,
            headers: responseHeaders,
            body: responseBody,
            contentLength: response.headers['content-length'],
          });
        })
        .catch(() => resolve(null));
    });
    outgoing.once('error', () => resolve(null));
    outgoing.end(body);
  });
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Picks every `k`-th matching request (the k-th, 2k-th…), starting after `offset` of them. */
export function everyNth(k: number, offset = 0): Picker {
  let seen = 0;
  return () => {
    seen++;
    return seen > offset && (seen - offset) % k === 0;
  };
}

/** Picks the first `n` matching requests: a storm. */
export function firstN(n: number): Picker {
  let seen = 0;
  return () => ++seen <= n;
}

/** Picks a `share` (0..1) of matching requests with a seeded PRNG (mulberry32): the same picks every run. */
export function seededShare(share: number, seed: number): Picker {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return () => next() < share;
}

/**
 * Lets `inner` pick a request (same method and path) at most `times` times, so that a client's
 * retries of it get through: a fault the retries must absorb, not one that outlasts them.
 */
export function atMostPerTarget(inner: Picker, times = 1): Picker {
  const picked = new Map<string, number>();
  return (request) => {
    const target = `${request.method} ${request.path}`;
    if ((picked.get(target) ?? 0) >= times) return false;
    if (!inner(request)) return false;
    picked.set(target, (picked.get(target) ?? 0) + 1);
    return true;
  };
}

/** A predicate on requests: every given field must equal the request's (`manifestKind` may be a list). */
export function requestsWhere(where: {
  readonly method?: string;
  readonly resource?: ResourceKind;
  readonly manifestKind?: ManifestKind | readonly ManifestKind[];
  readonly repository?: string;
}): (request: ProxiedRequest) => boolean {
  return (request) => {
    if (where.method !== undefined && request.method !== where.method) return false;
    if (where.resource !== undefined && request.resource !== where.resource) return false;
    if (where.repository !== undefined && request.repository !== where.repository) return false;
    if (where.manifestKind !== undefined) {
      const wanted: readonly ManifestKind[] =
        typeof where.manifestKind === 'string' ? [where.manifestKind] : where.manifestKind;
      if (request.manifestKind === null || !wanted.includes(request.manifestKind)) return false;
    }
    return true;
  };
}
