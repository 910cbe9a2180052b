/**
 * A wire-level S3 fake on loopback for the state store tests, written from the S3 API reference:
 * path-style REST (`/bucket/key`), PutObject / GetObject / HeadObject / DeleteObject and
 * ListObjectsV2 (prefix, max-keys, continuation-token), conditional writes (`If-None-Match: *`,
 * `If-Match: "etag"`) answering 412 PreconditionFailed, and 409 ConditionalRequestConflict when a
 * second conditional write to a key arrives while the first is still being received. ETags are the
 * quoted MD5 of the body, errors are `<Error><Code>…</Code>` XML. No emulator on npm or Debian was
 * known to implement conditional writes faithfully (s3rver ignores If-None-Match on PUT).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
}

export interface FakeS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** Keys currently stored, for assertions. */
  keys(): string[];
  /** Keys with a conditional PUT still being received (a test holds one open to provoke a 409). */
  conditionalWritesInFlight(): string[];
  stop(): Promise<void>;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
    `<RequestId>fake</RequestId></Error>`;
  response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'fake' });
  response.end(body);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Starts the fake with one bucket on 127.0.0.1 and a free port. */
export async function startFakeS3(bucket = 'regprune-state'): Promise<FakeS3> {
  const objects = new Map<string, StoredObject>();
  /** Keys with a conditional PUT being received: a second one meanwhile gets 409. */
  const conditionalInFlight = new Set<string>();

  const preconditionFails = (key: string, ifNoneMatch: string | undefined, ifMatch: string | undefined): boolean => {
    const current = objects.get(key);
    if (ifNoneMatch === '*' && current !== undefined) return true;
    if (ifMatch !== undefined && (current === undefined || current.etag !== ifMatch)) return true;
    return false;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (bucketName !== bucket) return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const ifNoneMatch = request.headers['if-none-match'];
    const ifMatch = request.headers['if-match'];
    const method = request.method ?? 'GET';

    if (key === '' && method === 'GET' && url.searchParams.get('list-type') === '2') {
      return listObjectsV2(url, response);
    }
    if (key === '') return sendError(response, 400, 'InvalidRequest', `unsupported bucket request ${method}`);

    switch (method) {
      case 'PUT': {
        const conditional = ifNoneMatch !== undefined || ifMatch !== undefined;
        if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
          return sendError(response, 501, 'NotImplemented', 'If-None-Match on PUT accepts only *');
        }
        if (conditional && conditionalInFlight.has(key)) {
          await readBody(request);
          return sendError(
            response,
            409,
            'ConditionalRequestConflict',
            'A conflicting conditional operation is currently in progress against this resource.',
          );
        }
        if (conditional) conditionalInFlight.add(key);
        let body: Buffer;
        try {
          body = await readBody(request);
        } finally {
          if (conditional) conditionalInFlight.delete(key);
        }
        if (preconditionFails(key, ifNoneMatch, ifMatch)) {
          if (ifMatch !== undefined && !objects.has(key)) {
            return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
          }
          return sendError(response, 412, 'PreconditionFailed', 'At least one of the preconditions did not hold');
        }
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        objects.set(key, { body, etag, lastModified: new Date() });
        response.writeHead(200, { etag });
        return void response.end();
      }
      case 'GET':
      case 'HEAD': {
        const object = objects.get(key);
        if (object === undefined) return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
        response.writeHead(200, {
          etag: object.etag,
          'content-length': String(object.body.length),
          'content-type': 'application/octet-stream',
          'last-modified': object.lastModified.toUTCString(),
        });
        return void response.end(method === 'GET' ? object.body : undefined);
      }
      case 'DELETE': {
        const object = objects.get(key);
        if (ifMatch !== undefined) {
          if (object === undefined) return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
          if (object.etag !== ifMatch) {
            return sendError(response, 412, 'PreconditionFailed', 'At least one of the preconditions did not hold');
          }
        }
        objects.delete(key);
        response.writeHead(204);
        return void response.end();
      }
      default:
        return sendError(response, 405, 'MethodNotAllowed', `${method} is not allowed`);
    }
  };

  const listObjectsV2 = (url: URL, response: ServerResponse): void => {
    const prefix = url.searchParams.get('prefix') ?? '';
    const maxKeys = Math.min(Number(url.searchParams.get('max-keys') ?? '1000'), 1000);
    const token = url.searchParams.get('continuation-token');
    const after = token === null ? '' : Buffer.from(token, 'base64url').toString('utf8');
    const matching = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
    const page = matching.slice(0, maxKeys);
    const truncated = matching.length > page.length;
    const last = page[page.length - 1];
    const contents = page
      .map((key) => {
        const object = objects.get(key);
        return (
          `<Contents><Key>${xmlEscape(key)}</Key><LastModified>${object?.lastModified.toISOString()}</LastModified>` +
          `<ETag>${xmlEscape(object?.etag ?? '')}</ETag><Size>${object?.body.length ?? 0}</Size>` +
          '<StorageClass>STANDARD</StorageClass></Contents>'
        );
      })
      .join('');
    const next =
      truncated && last !== undefined
        ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>`
        : '';
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
      `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`;
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end(body);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, 'InternalError', String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    keys: () => [...objects.keys()].sort(),
    conditionalWritesInFlight: () => [...conditionalInFlight].sort(),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
