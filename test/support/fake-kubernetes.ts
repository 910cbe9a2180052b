/**
 * A Kubernetes API server that answers the list endpoints a usage source reads, as the API
 * reference describes them (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 * cluster-wide and namespaced lists, `limit` with an opaque `continue` token and
 * `remainingItemCount`, a `resourceVersion` per list, 410 Gone (reason Expired) for a token older
 * than the compaction point (`expireContinueTokens`), 401 without a bearer token and 403 for a
 * resource the caller may not list, each as a `Status` object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeCertificate } from './tls.js';

/** The resources the fake serves: path segment → group/version and list kind. */
const RESOURCES: Record<string, { readonly prefix: string; readonly kind: string }> = {
  pods: { prefix: '/api/v1', kind: 'PodList' },
  replicationcontrollers: { prefix: '/api/v1', kind: 'ReplicationControllerList' },
  deployments: { prefix: '/apis/apps/v1', kind: 'DeploymentList' },
  statefulsets: { prefix: '/apis/apps/v1', kind: 'StatefulSetList' },
  daemonsets: { prefix: '/apis/apps/v1', kind: 'DaemonSetList' },
  replicasets: { prefix: '/apis/apps/v1', kind: 'ReplicaSetList' },
  jobs: { prefix: '/apis/batch/v1', kind: 'JobList' },
  cronjobs: { prefix: '/apis/batch/v1', kind: 'CronJobList' },
};
const API_VERSION: Record<string, string> = {
  '/api/v1': 'v1',
  '/apis/apps/v1': 'apps/v1',
  '/apis/batch/v1': 'batch/v1',
};
const PATH = /^(\/api\/v1|\/apis\/apps\/v1|\/apis\/batch\/v1)(?:\/namespaces\/([a-z0-9-]+))?\/([a-z]+)$/;

export type Resource = keyof typeof RESOURCES;

interface Stored {
  readonly resource: Resource;
  readonly namespace: string;
  readonly name: string;
  readonly object: Record<string, unknown>;
}

export interface RecordedList {
  readonly resource: string;
  readonly namespace: string | null;
  readonly limit: number | null;
  readonly continued: boolean;
}

export class FakeKubernetes {
  readonly token = 'fake-service-account-token';
  readonly requests: RecordedList[] = [];
  /** Resources the caller may not list (403 Forbidden, as RBAC answers). */
  readonly forbidden = new Set<Resource>();
  /** How many of the next requests carrying a continue token find it compacted away (410 Gone). */
  expireContinueTokens = 0;
  private readonly objects: Stored[] = [];
  private resourceVersion = 1000;
  private readonly server: Server;
  private port = 0;

  /** PEM of the server's certificate: the kubeconfig carries it as the cluster's CA. */
  readonly ca: string;

  private constructor() {
    const tls = makeCertificate();
    this.ca = tls.cert;
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => this.serve(req, res));
  }

  static async start(): Promise<FakeKubernetes> {
    const fake = new FakeKubernetes();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig that reaches this server with its token, as kubectl would read it. */
  kubeconfig(context = 'fake'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      `current-context: ${context}`,
      'clusters:',
      `- name: ${context}`,
      '  cluster:',
      `    server: "${this.url}"`,
      `    certificate-authority-data: ${Buffer.from(this.ca).toString('base64')}`,
      'users:',
      `- name: ${context}`,
      `  user: { token: "${this.token}" }`,
      'contexts:',
      `- name: ${context}`,
      `  context: { cluster: ${context}, user: ${context} }`,
      '',
    ].join('\n');
  }

  /** Adds or replaces an object; every change moves the resourceVersion on, as etcd does. */
  put(resource: Resource, namespace: string, name: string, object: Record<string, unknown>): void {
    this.remove(resource, namespace, name);
    this.resourceVersion++;
    const metadata = { name, namespace, resourceVersion: String(this.resourceVersion) };
    this.objects.push({ resource, namespace, name, object: { ...object, metadata } });
  }

  remove(resource: Resource, namespace: string, name: string): void {
    const at = this.objects.findIndex((o) => o.resource === resource && o.namespace === namespace && o.name === name);
    if (at >= 0) {
      this.objects.splice(at, 1);
      this.resourceVersion++;
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const match = PATH.exec(url.pathname);
    const resource = match?.[3];
    if (req.method !== 'GET' || match === null || resource === undefined || RESOURCES[resource] === undefined) {
      return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    }
    const { kind, prefix } = RESOURCES[resource];
    if (prefix !== match[1]) return status(res, 404, 'NotFound', `no ${resource} under ${match[1]}`);
    const namespace = match[2] ?? null;
    const limitText = url.searchParams.get('limit');
    const token = url.searchParams.get('continue');
    this.requests.push({
      resource,
      namespace,
      limit: limitText === null ? null : Number(limitText),
      continued: token !== null,
    });
    if (this.forbidden.has(resource as Resource)) {
      const scope = namespace === null ? 'at the cluster scope' : `in the namespace "${namespace}"`;
      return status(
        res,
        403,
        'Forbidden',
        `${resource} is forbidden: User "system:serviceaccount:regprune:regprune" cannot list resource ` +
          `"${resource}" in API group "${groupOf(prefix)}" ${scope}`,
      );
    }
    let start = 0;
    let listVersion = this.resourceVersion;
    if (token !== null) {
      const parsed = parseToken(token);
      if (parsed === null) return status(res, 400, 'BadRequest', 'continue key is not valid');
      if (this.expireContinueTokens > 0) {
        this.expireContinueTokens--;
        return status(
          res,
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. ' +
            'You can start a new list without the continue parameter.',
        );
      }
      start = parsed.start;
      listVersion = parsed.rv;
    }
    const items = this.objects
      .filter((o) => o.resource === resource && (namespace === null || o.namespace === namespace))
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
      .map((o) => o.object);
    const limit = limitText === null ? items.length : Math.max(1, Number(limitText));
    const page = items.slice(start, start + limit);
    const next = start + limit;
    const metadata: Record<string, unknown> = { resourceVersion: String(listVersion) };
    if (next < items.length) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: listVersion, start: next })).toString('base64url');
      metadata.remainingItemCount = items.length - next;
    }
    send(res, 200, { kind, apiVersion: API_VERSION[prefix], metadata, items: page });
  }
}

/** The API group of a prefix: "" for the core group, else the part before the version. */
function groupOf(prefix: string): string {
  return prefix === '/api/v1' ? '' : (API_VERSION[prefix]?.split('/')[0] ?? '');
}

function parseToken(token: string): { rv: number; start: number } | null {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString()) as { rv?: unknown; start?: unknown };
    return typeof value.rv === 'number' && typeof value.start === 'number'
      ? { rv: value.rv, start: value.start }
      : null;
  } catch {
    return null;
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/** A pod template spec with one container per image. */
export function podSpec(...images: string[]): Record<string, unknown> {
  return { containers: images.map((image, at) => ({ name: `c${at}`, image })) };
}
