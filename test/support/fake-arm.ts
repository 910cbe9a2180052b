/**
 * The Azure Resource Manager calls the Container Apps usage source makes, as the
 * Microsoft.App REST reference describes them: container apps and jobs listed per subscription or
 * resource group, revisions per app, each list a `{ value, nextLink }` page with `nextLink`
 * carrying on to the next; a bearer token required (401 otherwise); `AuthorizationFailed` (403)
 * for a caller without Reader on the scope. HTTPS on loopback with a self-signed certificate.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeCertificate } from './tls.js';

const PROVIDER = 'providers/Microsoft.App';

export interface FakeContainer {
  readonly name: string;
  readonly image: string;
}

interface App {
  readonly group: string;
  readonly name: string;
  readonly template: FakeContainer[];
  readonly revisions: Array<{ name: string; active: boolean; containers: FakeContainer[] }>;
}

export class FakeArm {
  readonly subscriptionId = '00000000-0000-0000-0000-0000000000aa';
  readonly requests: string[] = [];
  /** Items per page before a `nextLink`. */
  pageSize = 2;
  /** Refuse every request: the identity has no Reader role on the scope. */
  deny = false;
  /** An HTTPS agent that trusts this server's certificate. */
  readonly agent: Agent;
  private readonly apps: App[] = [];
  private readonly jobs: Array<{ group: string; name: string; containers: FakeContainer[] }> = [];
  private readonly server: Server;
  private port = 0;

  private constructor() {
    const tls = makeCertificate();
    this.agent = new Agent({ ca: tls.cert, keepAlive: false });
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => this.serve(req, res));
  }

  static async start(): Promise<FakeArm> {
    const fake = new FakeArm();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  app(group: string, name: string, template: FakeContainer[], revisions: App['revisions']): void {
    this.apps.push({ group, name, template, revisions });
  }

  job(group: string, name: string, containers: FakeContainer[]): void {
    this.jobs.push({ group, name, containers });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(url.pathname);
    if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) {
      return send(res, 401, { error: { code: 'AuthenticationFailed', message: 'Authentication failed.' } });
    }
    if (this.deny) {
      return send(res, 403, {
        error: {
          code: 'AuthorizationFailed',
          message:
            "The client 'regprune' does not have authorization to perform action " +
            "'Microsoft.App/containerApps/read' over scope '/subscriptions/" +
            `${this.subscriptionId}' or the scope is invalid.`,
        },
      });
    }
    if (url.searchParams.get('api-version') === null) {
      return send(res, 400, { error: { code: 'MissingApiVersionParameter', message: 'api-version is required' } });
    }
    const sub = `/subscriptions/${this.subscriptionId}`;
    const path = url.pathname;
    const group = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\//i.exec(path)?.[1];
    let items: unknown[] | null = null;
    if (
      path === `${sub}/${PROVIDER}/containerApps` ||
      path === `${sub}/resourceGroups/${group}/${PROVIDER}/containerApps`
    ) {
      items = this.apps.filter((app) => group === undefined || app.group === group).map((app) => this.appResource(app));
    } else if (path === `${sub}/${PROVIDER}/jobs` || path === `${sub}/resourceGroups/${group}/${PROVIDER}/jobs`) {
      items = this.jobs
        .filter((job) => group === undefined || job.group === group)
        .map((job) => ({
          id: `${sub}/resourceGroups/${job.group}/${PROVIDER}/jobs/${job.name}`,
          name: job.name,
          type: 'Microsoft.App/jobs',
          location: 'westeurope',
          properties: { template: { containers: job.containers } },
        }));
    } else {
      const revisions = new RegExp(`^${sub}/resourceGroups/([^/]+)/${PROVIDER}/containerApps/([^/]+)/revisions$`).exec(
        path,
      );
      const app = revisions && this.apps.find((a) => a.group === revisions[1] && a.name === revisions[2]);
      if (app) {
        items = app.revisions.map((revision) => ({
          id: `${this.appId(app)}/revisions/${revision.name}`,
          name: revision.name,
          type: 'Microsoft.App/containerApps/revisions',
          properties: { active: revision.active, template: { containers: revision.containers } },
        }));
      }
    }
    if (items === null) {
      return send(res, 404, { error: { code: 'ResourceNotFound', message: `no resource at ${path}` } });
    }
    const start = Number(url.searchParams.get('$skiptoken') ?? 0);
    const next = start + this.pageSize;
    const nextUrl = new URL(url);
    nextUrl.searchParams.set('$skiptoken', String(next));
    send(res, 200, {
      value: items.slice(start, next),
      ...(next < items.length ? { nextLink: nextUrl.toString() } : {}),
    });
  }

  private appId(app: App): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${app.group}/${PROVIDER}/containerApps/${app.name}`;
  }

  private appResource(app: App) {
    return {
      id: this.appId(app),
      name: app.name,
      type: 'Microsoft.App/containerApps',
      location: 'westeurope',
      properties: { template: { containers: app.template }, latestRevisionName: app.revisions.at(-1)?.name },
    };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
