import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { makeCertificate } from './tls.js';

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
