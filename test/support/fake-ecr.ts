/**
 * A wire-level fake of the ECR API for tests: a node:http server on 127.0.0.1 that speaks awsJson1_1
 * the way ECR does (POST /, `x-amz-target: AmazonEC2ContainerRegistry_V20150921.<Op>`,
 * `application/x-amz-json-1.1`, timestamps as epoch seconds, errors as `{"__type","message"}`).
 * Repositories, images and manifests live in memory; faults (throttling, 5xx, per-image delete
 * failures, access denied) are injected per operation. The real SDK talks to it through `endpoint`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdaptiveRetryStrategy, DefaultRateLimiter } from '@smithy/core/retry';

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** ECR's own limits, enforced so a provider that exceeds them fails its tests. */
const MAX_RESULTS_LIMIT = 1000;
const DEFAULT_PAGE = 100;
const BATCH_LIMIT = 100;

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

export interface FakeImage {
  digest: string;
  tags: string[];
  /** Epoch ms. */
  pushedAtMs: number;
  sizeBytes: number;
  manifestMediaType: string;
  artifactMediaType?: string;
  subject?: string;
  /** Epoch ms. */
  lastPulledAtMs?: number;
  /** Raw manifest JSON (indexes: lists `manifests[].digest`). */
  manifest: string;
  /** ECR storage class state (`imageStatus`); default ACTIVE. DescribeImages hides the others unless asked. */
  status?: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
  /** Epoch ms; set for archived images (`lastArchivedAt`). */
  archivedAtMs?: number;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** ECR's tag pattern (botocore `ImageTag`: 1–300 characters). */
const TAG_MAX = 300;
const TAG_STATUS = new Set(['TAGGED', 'UNTAGGED', 'ANY']);
const IMAGE_STATUS_FILTER = new Set(['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY']);

export interface FakeRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** The SDK's `amz-sdk-request` header: `attempt=N; max=M`. */
  readonly attempt: number;
}

interface Fault {
  readonly status: number;
  readonly type: string;
  readonly message: string;
  remaining: number;
}

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A digest that is valid and stable for a name: `sha256:` + 64 hex chars. */
export function digestOf(name: string): string {
  let hex = '';
  let seed = 0x811c9dc5;
  for (const ch of name) seed = Math.imul(seed ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  while (hex.length < 64) {
    seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) >>> 0;
    hex += seed.toString(16).padStart(8, '0');
  }
  return `sha256:${hex.slice(0, 64)}`;
}

/** An image manifest's JSON. */
export function imageManifest(configMediaType: string = MEDIA.ociConfig, subject?: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: configMediaType, digest: digestOf(`config-${subject ?? ''}`), size: 10 },
    layers: [],
    ...(subject ? { subject: { mediaType: MEDIA.ociManifest, digest: subject, size: 10 } } : {}),
  });
}

/** An index manifest's JSON listing `children`. */
export function indexManifest(children: readonly string[], mediaType: string = MEDIA.ociIndex): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: children.map((digest, i) => ({
      mediaType: MEDIA.ociManifest,
      digest,
      size: 500,
      platform: { os: 'linux', architecture: i % 2 === 0 ? 'amd64' : 'arm64' },
    })),
  });
}

export class FakeEcr {
  readonly registryId: string;
  readonly region: string;
  readonly requests: FakeRequest[] = [];
  /** Every answer sent, for holding the fake to the service model (test/wire/ecr-fake-spec.test.ts). */
  readonly responses: { operation: string; status: number; body: unknown }[] = [];
  private readonly repositories = new Map<string, FakeImage[]>();
  private readonly faults = new Map<string, Fault[]>();
  /** digest → failure code for BatchDeleteImage, with how many times it applies. */
  private readonly deleteFailures = new Map<string, { code: string; reason: string; remaining: number }>();
  private server: Server | null = null;
  private baseUrl = '';
  /** A quota over every operation (requests a second, a burst of one second's worth); above it, ThrottlingException. */
  requestsPerSecond: number | null = null;
  /** Requests the quota refused. */
  throttledCount = 0;
  private quota = { tokens: 0, atMs: 0 };

  constructor(options: { registryId?: string; region?: string } = {}) {
    this.registryId = options.registryId ?? '123456789012';
    this.region = options.region ?? 'eu-west-1';
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    return this.baseUrl;
  }

  /** The registry host a config names (`<account>.dkr.ecr.<region>.amazonaws.com`). */
  get registryHost(): string {
    return `${this.registryId}.dkr.ecr.${this.region}.amazonaws.com`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = null;
  }

  addRepository(name: string): void {
    if (!this.repositories.has(name)) this.repositories.set(name, []);
  }

  addImage(repository: string, image: Partial<FakeImage> & { digest: string }): FakeImage {
    this.addRepository(repository);
    const full: FakeImage = {
      tags: [],
      pushedAtMs: 0,
      sizeBytes: 1000,
      manifestMediaType: MEDIA.ociManifest,
      artifactMediaType: MEDIA.ociConfig,
      manifest: imageManifest(),
      ...image,
    };
    this.repositories.get(repository)!.push(full);
    return full;
  }

  /** The images a repository holds now. */
  images(repository: string): readonly FakeImage[] {
    return this.repositories.get(repository) ?? [];
  }

  /** The next `times` calls to `operation` fail with this error. */
  inject(operation: string, fault: { status: number; type: string; message?: string; times?: number }): void {
    const list = this.faults.get(operation) ?? [];
    list.push({
      status: fault.status,
      type: fault.type,
      message: fault.message ?? `injected ${fault.type}`,
      remaining: fault.times ?? 1,
    });
    this.faults.set(operation, list);
  }

  /** BatchDeleteImage reports this failure for the digest (`times` times, default always). */
  failDelete(digest: string, code: string, options: { reason?: string; times?: number } = {}): void {
    this.deleteFailures.set(digest, {
      code,
      reason: options.reason ?? `injected ${code}`,
      remaining: options.times ?? Infinity,
    });
  }

  /** How many requests each operation received (every attempt). */
  count(operation?: string): number {
    return operation ? this.requests.filter((r) => r.operation === operation).length : this.requests.length;
  }

  resetRequests(): void {
    this.requests.length = 0;
    this.responses.length = 0;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let operation = '';
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || req.url !== '/' || !target.startsWith(TARGET_PREFIX)) {
        throw new AwsError(
          400,
          'UnknownOperationException',
          `expected POST / with x-amz-target ${TARGET_PREFIX}<Operation>`,
        );
      }
      if (!String(req.headers['content-type'] ?? '').startsWith(CONTENT_TYPE)) {
        throw new AwsError(400, 'SerializationException', `expected content-type ${CONTENT_TYPE}`);
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new AwsError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      operation = target.slice(TARGET_PREFIX.length);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);
      this.requests.push({ operation, body, attempt });
      this.spendQuota();
      this.raiseFault(operation);
      const result = this.dispatch(operation, body);
      this.send(res, 200, result, operation);
    } catch (error) {
      if (error instanceof AwsError) {
        this.send(res, error.status, { __type: error.type, message: error.message }, operation);
      } else {
        this.send(res, 500, { __type: 'ServerException', message: String(error) }, operation);
      }
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, operation: string): void {
    this.responses.push({ operation, status, body });
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': `req-${this.requests.length}`,
    });
    res.end(text);
  }

  private spendQuota(): void {
    const rate = this.requestsPerSecond;
    if (rate === null) return;
    const now = performance.now();
    const { tokens, atMs } = this.quota;
    const refilled = atMs === 0 ? rate : Math.min(rate, tokens + ((now - atMs) / 1000) * rate);
    this.quota = { tokens: refilled, atMs: now };
    if (refilled < 1) {
      this.throttledCount++;
      throw new AwsError(400, 'ThrottlingException', 'Rate exceeded');
    }
    this.quota.tokens = refilled - 1;
  }

  private raiseFault(operation: string): void {
    const list = this.faults.get(operation);
    const fault = list?.find((f) => f.remaining > 0);
    if (!fault) return;
    fault.remaining -= 1;
    throw new AwsError(fault.status, fault.type, fault.message);
  }

  private dispatch(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'DescribeRepositories':
        return this.describeRepositories(body);
      case 'DescribeImages':
        return this.describeImages(body);
      case 'BatchGetImage':
        return this.batchGetImage(body);
      case 'BatchDeleteImage':
        return this.batchDeleteImage(body);
      default:
        throw new AwsError(400, 'UnknownOperationException', `operation ${operation} is not supported by the fake`);
    }
  }

  /**
   * Another account's registry: ECR has no "registry not found" error; without a registry policy
   * granting us access it answers AccessDeniedException (a common AWS error every operation may raise).
   */
  private checkRegistry(body: Record<string, unknown>): void {
    if (body.registryId !== undefined && body.registryId !== this.registryId) {
      throw new AwsError(
        400,
        'AccessDeniedException',
        `User is not authorized to access registry ${String(body.registryId)}: no registry policy allows it`,
      );
    }
  }

  private repository(body: Record<string, unknown>): FakeImage[] {
    this.checkRegistry(body);
    const name = String(body.repositoryName ?? '');
    const images = this.repositories.get(name);
    if (!images) {
      throw new AwsError(
        400,
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${this.registryId}'`,
      );
    }
    return images;
  }

  private page<T>(items: readonly T[], body: Record<string, unknown>): { items: T[]; nextToken?: string } {
    const maxResults = body.maxResults === undefined ? DEFAULT_PAGE : Number(body.maxResults);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS_LIMIT) {
      throw new AwsError(400, 'InvalidParameterException', `maxResults must be between 1 and ${MAX_RESULTS_LIMIT}`);
    }
    const start =
      body.nextToken === undefined ? 0 : Number(Buffer.from(String(body.nextToken), 'base64url').toString());
    if (!Number.isInteger(start) || start < 0)
      throw new AwsError(400, 'InvalidParameterException', 'invalid nextToken');
    const end = start + maxResults;
    return {
      items: items.slice(start, end),
      ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}),
    };
  }

  private describeRepositories(body: Record<string, unknown>): unknown {
    this.checkRegistry(body);
    let names = [...this.repositories.keys()];
    if (body.repositoryNames !== undefined) {
      const asked = body.repositoryNames;
      if (!Array.isArray(asked) || asked.length < 1 || asked.length > BATCH_LIMIT) {
        throw new AwsError(400, 'InvalidParameterException', `repositoryNames must hold 1 to ${BATCH_LIMIT} names`);
      }
      // ECR fails the whole call on the first name it does not have.
      const missing = (asked as unknown[]).find((name) => !this.repositories.has(String(name)));
      if (missing !== undefined) {
        throw new AwsError(
          400,
          'RepositoryNotFoundException',
          `The repository with name '${String(missing)}' does not exist in the registry with id '${this.registryId}'`,
        );
      }
      names = names.filter((name) => (asked as unknown[]).includes(name));
    }
    const { items, nextToken } = this.page(names, body);
    return {
      repositories: items.map((name) => ({
        repositoryName: name,
        repositoryArn: `arn:aws:ecr:${this.region}:${this.registryId}:repository/${name}`,
        registryId: this.registryId,
        repositoryUri: `${this.registryHost}/${name}`,
        createdAt: 1_700_000_000,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private describeImages(body: Record<string, unknown>): unknown {
    const images = this.repository(body);
    const filter = (body.filter ?? {}) as { tagStatus?: string; imageStatus?: string };
    if (filter.tagStatus !== undefined && !TAG_STATUS.has(filter.tagStatus)) {
      throw new AwsError(400, 'InvalidParameterException', `invalid filter.tagStatus '${filter.tagStatus}'`);
    }
    if (filter.imageStatus !== undefined && !IMAGE_STATUS_FILTER.has(filter.imageStatus)) {
      throw new AwsError(400, 'InvalidParameterException', `invalid filter.imageStatus '${filter.imageStatus}'`);
    }
    // Without filter.imageStatus ECR lists only ACTIVE images (the archive storage class is opt-in).
    const imageStatus = filter.imageStatus ?? 'ACTIVE';
    let matching = images.filter((image) => {
      if (imageStatus !== 'ANY' && (image.status ?? 'ACTIVE') !== imageStatus) return false;
      if (filter.tagStatus === 'TAGGED') return image.tags.length > 0;
      if (filter.tagStatus === 'UNTAGGED') return image.tags.length === 0;
      return true;
    });
    if (body.imageIds !== undefined) {
      // Asked by id: exactly those images, in the order asked; one ECR cannot find fails the call.
      matching = this.imageIds(body).map((id) => {
        const found = this.find(images, id);
        if (!('failureCode' in found)) return found;
        if (found.failureCode === 'ImageNotFound') {
          throw new AwsError(
            400,
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} ` +
              `does not exist within the repository with name '${String(body.repositoryName)}' ` +
              `in the registry with id '${this.registryId}'`,
          );
        }
        throw new AwsError(400, 'InvalidParameterException', `Invalid parameter at 'imageIds': ${found.failureReason}`);
      });
    }
    const { items, nextToken } = this.page(matching, body);
    return {
      imageDetails: items.map((image) => ({
        registryId: this.registryId,
        repositoryName: String(body.repositoryName),
        imageDigest: image.digest,
        ...(image.tags.length > 0 ? { imageTags: [...image.tags] } : {}),
        imageSizeInBytes: image.sizeBytes,
        imagePushedAt: image.pushedAtMs / 1000,
        imageManifestMediaType: image.manifestMediaType,
        ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
        ...(image.lastPulledAtMs !== undefined ? { lastRecordedPullTime: image.lastPulledAtMs / 1000 } : {}),
        ...(image.subject ? { subjectManifestDigest: image.subject } : {}),
        imageStatus: image.status ?? 'ACTIVE',
        ...(image.archivedAtMs !== undefined ? { lastArchivedAt: image.archivedAtMs / 1000 } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  private imageIds(body: Record<string, unknown>): ImageId[] {
    const ids = body.imageIds;
    if (!Array.isArray(ids) || ids.length === 0)
      throw new AwsError(400, 'InvalidParameterException', 'imageIds is required');
    if (ids.length > BATCH_LIMIT) {
      throw new AwsError(400, 'InvalidParameterException', `imageIds must contain at most ${BATCH_LIMIT} items`);
    }
    // Bounds of the model (ImageTag: 1–300 characters) fail the whole call, before any image is looked at.
    const badTag = (ids as ImageId[]).findIndex(
      (id) => id.imageTag !== undefined && (id.imageTag.length < 1 || id.imageTag.length > TAG_MAX),
    );
    if (badTag !== -1) {
      throw new AwsError(
        400,
        'InvalidParameterException',
        `Invalid parameter at 'imageIds.${badTag + 1}.member.imageTag': length must be between 1 and ${TAG_MAX}`,
      );
    }
    return ids as ImageId[];
  }

  private find(images: readonly FakeImage[], id: ImageId): FakeImage | { failureCode: string; failureReason: string } {
    if (!id.imageDigest && !id.imageTag)
      return { failureCode: 'MissingDigestAndTag', failureReason: 'digest or tag required' };
    if (id.imageDigest !== undefined && !DIGEST.test(id.imageDigest)) {
      return {
        failureCode: 'InvalidImageDigest',
        failureReason: 'Invalid request parameters: image digest is invalid',
      };
    }

    const image = id.imageDigest
      ? images.find((i) => i.digest === id.imageDigest)
      : images.find((i) => i.tags.includes(id.imageTag!));
    if (!image) return { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
    if (id.imageDigest && id.imageTag && !image.tags.includes(id.imageTag)) {
      return { failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Tag does not match digest' };
    }
    return image;
  }

  private batchGetImage(body: Record<string, unknown>): unknown {
    const images = this.repository(body);
    const accepted = Array.isArray(body.acceptedMediaTypes) ? (body.acceptedMediaTypes as string[]) : null;
    const found: unknown[] = [];
    const failures: unknown[] = [];
    for (const id of this.imageIds(body)) {
      const image = this.find(images, id);
      if ('failureCode' in image) {
        failures.push({ imageId: id, ...image });
      } else if ((image.status ?? 'ACTIVE') !== 'ACTIVE') {
        // An archived image cannot be pulled (its manifest read) until it is restored.
        failures.push({ imageId: id, failureCode: 'ImageInaccessible', failureReason: 'The image is archived' });
      } else if (accepted && !accepted.includes(image.manifestMediaType)) {
        // ECR has no "unsupported type" failure code: a manifest in none of the accepted types is not found.
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
      } else {
        found.push({
          registryId: this.registryId,
          repositoryName: String(body.repositoryName),
          imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
          imageManifest: image.manifest,
          imageManifestMediaType: image.manifestMediaType,
        });
      }
    }
    return { images: found, failures };
  }

  private referencedByIndex(images: readonly FakeImage[], digest: string): boolean {
    return images.some((image) => {
      if (image.manifestMediaType !== MEDIA.ociIndex && image.manifestMediaType !== MEDIA.dockerList) return false;
      const parsed = JSON.parse(image.manifest) as { manifests?: { digest: string }[] };
      return (parsed.manifests ?? []).some((m) => m.digest === digest);
    });
  }

  /** In order, like ECR: a child listed before its index in the same call is refused. */
  private batchDeleteImage(body: Record<string, unknown>): unknown {
    const images = this.repository(body);
    const deleted: ImageId[] = [];
    const failures: unknown[] = [];
    for (const id of this.imageIds(body)) {
      const image = this.find(images, id);
      if ('failureCode' in image) {
        failures.push({ imageId: id, ...image });
        continue;
      }
      const injected = this.deleteFailures.get(image.digest);
      if (injected && injected.remaining > 0) {
        injected.remaining -= 1;
        failures.push({ imageId: id, failureCode: injected.code, failureReason: injected.reason });
        continue;
      }
      const removesImage = !id.imageTag || image.tags.length === 1;
      if (removesImage && this.referencedByIndex(images, image.digest)) {
        failures.push({
          imageId: id,
          failureCode: 'ImageReferencedByManifestList',
          failureReason: `Requested image referenced by manifest list: [${image.digest}]`,
        });
        continue;
      }
      if (id.imageTag) {
        image.tags = image.tags.filter((t) => t !== id.imageTag);
        deleted.push({ imageDigest: image.digest, imageTag: id.imageTag });
        if (image.tags.length > 0) continue;
      } else {
        for (const tag of image.tags) deleted.push({ imageDigest: image.digest, imageTag: tag });
        if (image.tags.length === 0) deleted.push({ imageDigest: image.digest });
      }
      images.splice(images.indexOf(image), 1);
    }
    return { imageIds: deleted, failures };
  }
}

/** Starts a fake ECR on a free loopback port. */
export async function startFakeEcr(options: { registryId?: string; region?: string } = {}): Promise<FakeEcr> {
  return new FakeEcr(options).start();
}

/**
 * Client hooks that point the real SDK at the fake: static test credentials and the SDK's adaptive
 * retry strategy (its rate limiter included) with a 1 ms backoff, so throttling tests exercise real retries without
 * waiting.
 */
export function fakeEcrClientHooks(fake: FakeEcr, options: { maxAttempts?: number } = {}) {
  const maxAttempts = options.maxAttempts ?? 8;
  return {
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-for-tests' },
    maxAttempts,
    retryStrategy: new AdaptiveRetryStrategy(maxAttempts, {
      backoff: { computeNextBackoffDelay: () => 1, setDelayBase: () => {} },
      // The adaptive limiter's floor is 0.5 requests/s after a throttle; raise it for tests.
      rateLimiter: new DefaultRateLimiter({ minFillRate: 200, minCapacity: 50 }),
    }),
  };
}
