/**
 * The AWS Lambda API (rest-json) calls a usage source makes — ListFunctions
 * (`GET /2015-03-31/functions/`, `FunctionVersion=ALL`, `Marker`, at most 50 items a page) and
 * GetFunction (`GET /2015-03-31/functions/{name}?Qualifier=`) — written from the API reference and
 * held to botocore's Lambda model: every response is checked against its shape and each violation
 * recorded in `modelViolations` (Debian's model predates `nodejs22.x`, so the zip function here says
 * `provided.al2`). Errors carry `x-amzn-ErrorType` as the service sends them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { botocoreModelPath, loadModel, type ServiceModel, violations } from './botocore-model.js';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function';
const MAX_ITEMS = 50;

export interface FakeFunctionVersion {
  readonly version: string;
  readonly packageType: 'Image' | 'Zip';
  readonly imageUri?: string;
  readonly resolvedDigest?: string;
}

export class FakeLambda {
  readonly requests: string[] = [];
  readonly modelViolations: string[] = [];
  /** Answer ListFunctions with 429 TooManyRequestsException this many times. */
  throttle = 0;
  readonly modelChecked: boolean;
  private readonly model: ServiceModel | null;
  private readonly functions = new Map<string, FakeFunctionVersion[]>();
  private readonly server: Server;
  private port = 0;

  private constructor() {
    const path = botocoreModelPath('lambda', '2015-03-31');
    this.model = path === null ? null : loadModel(path);
    this.modelChecked = this.model !== null;
    this.server = createServer((req, res) => this.serve(req, res));
  }

  static async start(): Promise<FakeLambda> {
    const fake = new FakeLambda();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds a function with its versions (`$LATEST` and published ones). */
  function(name: string, versions: FakeFunctionVersion[]): void {
    this.functions.set(name, versions);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    // The path is `/2015-03-31/functions/` in the model; the SDK sends it without the slash.
    if (req.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(url.pathname)) return this.list(url, res);
    const match = /^\/2015-03-31\/functions\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && match !== null) {
      return this.get(decodeURIComponent(match[1]!), url.searchParams.get('Qualifier') ?? '$LATEST', res);
    }
    this.error(res, 404, 'ResourceNotFoundException', `no route ${url.pathname}`);
  }

  private configuration(name: string, version: FakeFunctionVersion) {
    return {
      FunctionName: name,
      FunctionArn: `${ARN}:${name}${version.version === '$LATEST' ? '' : `:${version.version}`}`,
      Version: version.version,
      PackageType: version.packageType,
      ...(version.packageType === 'Zip' ? { Runtime: 'provided.al2', Handler: 'bootstrap' } : {}),
      LastModified: '2026-11-20T10:00:00.000+0000',
    };
  }

  private list(url: URL, res: ServerResponse): void {
    if (this.throttle > 0) {
      this.throttle--;
      return this.error(res, 429, 'TooManyRequestsException', 'Rate exceeded');
    }
    const all = url.searchParams.get('FunctionVersion') === 'ALL';
    const entries = [...this.functions].flatMap(([name, versions]) =>
      versions.filter((v) => all || v.version === '$LATEST').map((v) => this.configuration(name, v)),
    );
    const size = Math.min(Number(url.searchParams.get('MaxItems') ?? MAX_ITEMS), MAX_ITEMS);
    const start = Number(url.searchParams.get('Marker') ?? 0);
    const next = start + size;
    this.send(res, 'ListFunctionsResponse', {
      Functions: entries.slice(start, next),
      ...(next < entries.length ? { NextMarker: String(next) } : {}),
    });
  }

  private get(name: string, qualifier: string, res: ServerResponse): void {
    const version = this.functions.get(name)?.find((v) => v.version === qualifier);
    if (version === undefined) {
      return this.error(res, 404, 'ResourceNotFoundException', `Function not found: ${ARN}:${name}:${qualifier}`);
    }
    const repository = version.imageUri?.split(':')[0]?.split('@')[0];
    const code =
      version.packageType === 'Image'
        ? {
            RepositoryType: 'ECR',
            ImageUri: version.imageUri,
            ...(version.resolvedDigest ? { ResolvedImageUri: `${repository}@${version.resolvedDigest}` } : {}),
          }
        : { RepositoryType: 'S3', Location: 'https://awslambda-eu-west-1-tasks.s3.example/presigned' };
    this.send(res, 'GetFunctionResponse', { Configuration: this.configuration(name, version), Code: code });
  }

  private send(res: ServerResponse, shape: string, body: Record<string, unknown>): void {
    if (this.model !== null) {
      for (const problem of violations(this.model, shape, body)) this.modelViolations.push(`${shape} ${problem}`);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ Type: 'User', message }));
  }
}
