/**
 * A local Application Insights ingestion endpoint ("Breeze") for the real
 * `@azure/monitor-opentelemetry-exporter`: `POST /v2.1/track` with a JSON array of telemetry items,
 * answered with Breeze's `{ itemsReceived, itemsAccepted, errors }`. HTTPS with a certificate made
 * at start-up, because the SDK sends a bearer token over TLS only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** One telemetry item as the exporter sends it (the fields these tests read). */
export interface BreezeItem {
  readonly name: string;
  readonly iKey?: string;
  readonly tags?: Record<string, string>;
  readonly data: {
    readonly baseType: string;
    readonly baseData: {
      readonly metrics?: readonly { readonly name: string; readonly value: number; readonly count?: number }[];
      readonly properties?: Record<string, string>;
    };
  };
}

export interface BreezeRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly items: readonly BreezeItem[];
}

/** A self-signed certificate for 127.0.0.1, made with openssl in a temp dir that is removed at once. */
function makeCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-breeze-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class FakeBreeze {
  readonly requests: BreezeRequest[] = [];
  /** The status the next requests get; Breeze answers 200 when it took every item. */
  status = 200;

  private constructor(
    private readonly server: Server,
    /** PEM of the server certificate: give it to the client as its CA. */
    readonly ca: string,
  ) {}

  static async start(): Promise<FakeBreeze> {
    const { key, cert } = makeCertificate();
    const server = createServer({ key, cert });
    const fake = new FakeBreeze(server, cert);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const items = (text ? JSON.parse(text) : []) as BreezeItem[];
        fake.requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          authorization: request.headers.authorization,
          items,
        });
        const accepted = fake.status === 200 ? items.length : 0;
        response.writeHead(fake.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: accepted, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** `https://127.0.0.1:<port>/`, the IngestionEndpoint of a connection string. */
  get endpoint(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Every item of every request that reached `POST /v2.1/track`. */
  get tracked(): BreezeItem[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/v2.1/track').flatMap((r) => r.items);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
