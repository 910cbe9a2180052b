/**
 * Pushes images to a registry over the HTTP API v2 with plain `fetch`, the way `docker push`,
 * cosign and oras do: blobs by monolithic upload (POST, then PUT `?digest=`) or cross-repository
 * mount, then manifests by tag or digest. Builds realistic histories: builds sharing base layers,
 * release tags, a rolled-back `latest`, multi-arch indexes, cosign signatures and OCI 1.1 referrers.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mapConcurrent } from '../../lib/concurrency.js';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  cosignSignature: 'application/vnd.dev.cosign.simplesigning.v1+json',
} as const;

/** Every manifest media type, for `Accept`. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerList,
].join(', ');

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly architecture: string; readonly os: string; readonly variant?: string };
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A layer: its gzipped tar (what is pushed) and the digest of the tar (the config's diff_id). */
export interface Layer {
  readonly bytes: Uint8Array;
  readonly digest: string;
  readonly diffId: string;
}

export interface PushedImage {
  readonly repository: string;
  /** The manifest's descriptor (digest, size, media type, platform for index children). */
  readonly manifest: Descriptor;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly created: string;
  /** Config and layer digests (for an index: the union over its children). */
  readonly blobs: readonly string[];
  /** Index children (empty for a single image). */
  readonly children: readonly PushedImage[];
}

export interface ImageSpec {
  /** Tags to PUT the manifest under (in order); none = pushed by digest only. */
  readonly tags?: readonly string[];
  /** ISO time for the config's `created` (what OCI registries report as push time). */
  readonly created: string;
  /** Layers, base first. */
  readonly layers: readonly Layer[];
  readonly format?: 'oci' | 'docker';
  readonly platform?: { readonly architecture: string; readonly os: string; readonly variant?: string };
  /** Makes two otherwise equal images distinct (goes into the config's labels). */
  readonly label?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** `authorization` header value for basic auth. */
export const basicAuth = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

export const sha256 = (bytes: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const encoder = new TextEncoder();
/** The bytes a manifest is pushed as (what its digest is computed over). */
export const jsonBytes = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** One-file tar (ustar), so that layers are real layers any client can unpack. */
function tarOf(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(encoder.encode(text), offset);
  put(0, name);
  put(100, '0000644\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, content.length.toString(8).padStart(11, '0') + '\0');
  put(136, '00000000000\0'); // mtime 0: reproducible
  put(148, '        ');
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  put(148, checksum.toString(8).padStart(6, '0') + '\0 ');
  const padded = Math.ceil(content.length / 512) * 512;
  const out = new Uint8Array(512 + padded + 1024);
  out.set(header, 0);
  out.set(content, 512);
  return out;
}

/** A deterministic layer: `sizeBytes` of pseudo-random (incompressible) content derived from `seed`. */
export function makeLayer(seed: string, sizeBytes = 1024): Layer {
  const content = new Uint8Array(sizeBytes);
  let block = createHash('sha256').update(seed).digest();
  for (let offset = 0; offset < sizeBytes; offset += block.length) {
    content.set(block.subarray(0, Math.min(block.length, sizeBytes - offset)), offset);
    block = createHash('sha256').update(block).digest();
  }
  const tar = tarOf(`layer-${seed.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}.bin`, content);
  const bytes = gzipSync(tar, { level: 1 });
  return { bytes, digest: sha256(bytes), diffId: sha256(tar) };
}

/** Pushes to one registry; remembers which blobs live where so each blob is uploaded once. */
export class RegistryPusher {
  /** HTTP requests sent so far. */
  requests = 0;
  private readonly blobHomes = new Map<string, string>(); // digest → a repository that has it
  private readonly blobsInRepo = new Map<string, Promise<void>>(); // `${repo}@${digest}`

  constructor(
    readonly baseUrl: string,
    private readonly concurrency = 6,
    /** Sent with every request (e.g. `authorization` for a registry with basic auth). */
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  private async send(method: string, url: string, init: RequestInit = {}): Promise<Response> {
    this.requests++;
    const headers = { ...this.headers, ...((init.headers as Record<string, string> | undefined) ?? {}) };
    return fetch(new URL(url, this.baseUrl), { ...init, headers, method, redirect: 'manual' });
  }

  private async expectStatus(response: Response, expected: number[], what: string): Promise<void> {
    if (expected.includes(response.status)) return;
    const body = await response.text().catch(() => '');
    throw new Error(`${what}: registry answered ${response.status} ${body.slice(0, 300)}`);
  }

  /** Uploads a blob to `repository` unless it is there already; mounts it from another repository when possible. */
  async pushBlob(repository: string, bytes: Uint8Array, digest = sha256(bytes)): Promise<void> {
    const key = `${repository}@${digest}`;
    const pending = this.blobsInRepo.get(key);
    if (pending) return pending;
    const upload = this.uploadBlob(repository, bytes, digest);
    this.blobsInRepo.set(key, upload);
    upload.catch(() => this.blobsInRepo.delete(key));
    return upload;
  }

  private async uploadBlob(repository: string, bytes: Uint8Array, digest: string): Promise<void> {
    const home = this.blobHomes.get(digest);
    let start: Response;
    if (home !== undefined && home !== repository) {
      start = await this.send('POST', `/v2/${repository}/blobs/uploads/?mount=${digest}&from=${home}`);
      await start.arrayBuffer();
      if (start.status === 201) return;
    } else {
      start = await this.send('POST', `/v2/${repository}/blobs/uploads/`);
      await start.arrayBuffer();
    }
    await this.expectStatus(start, [202], `starting upload of ${digest} to ${repository}`);
    const location = start.headers.get('location');
    if (location === null) throw new Error(`registry gave no upload Location for ${repository}`);
    const url = new URL(location, this.baseUrl);
    url.searchParams.set('digest', digest);
    const put = await this.send('PUT', url.toString(), {
      body: new Uint8Array(bytes),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    });
    await this.expectStatus(put, [201], `uploading ${digest} to ${repository}`);
    await put.arrayBuffer();
    if (!this.blobHomes.has(digest)) this.blobHomes.set(digest, repository);
  }

  /** PUTs a manifest under a tag or its digest; returns its descriptor. */
  async pushManifest(
    repository: string,
    reference: string | null,
    manifest: Uint8Array,
    mediaType: string,
  ): Promise<Descriptor> {
    const digest = sha256(manifest);
    const response = await this.send('PUT', `/v2/${repository}/manifests/${reference ?? digest}`, {
      body: new Uint8Array(manifest),
      headers: { 'content-type': mediaType },
    });
    await this.expectStatus(response, [201], `pushing manifest ${reference ?? digest} to ${repository}`);
    await response.arrayBuffer();
    const answered = response.headers.get('docker-content-digest');
    if (answered !== null && answered !== digest) {
      throw new Error(`registry stored ${repository}:${reference} as ${answered}, expected ${digest}`);
    }
    return { mediaType, digest, size: manifest.length };
  }

  /** Points `tags` at an already pushed manifest (re-PUTs the same bytes). */
  async tag(repository: string, manifest: Uint8Array, mediaType: string, tags: readonly string[]): Promise<void> {
    for (const tag of tags) await this.pushManifest(repository, tag, manifest, mediaType);
  }

  /** Pushes a single-platform image: layers, config, manifest (by digest when untagged). */
  async pushImage(repository: string, spec: ImageSpec): Promise<PushedImage & { readonly bytes: Uint8Array }> {
    const docker = spec.format === 'docker';
    const platform = spec.platform ?? { architecture: 'amd64', os: 'linux' };
    const config = jsonBytes({
      created: spec.created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Labels: spec.label ? { build: spec.label } : {} },
      rootfs: { type: 'layers', diff_ids: spec.layers.map((layer) => layer.diffId) },
      history: spec.layers.map(() => ({ created: spec.created, created_by: 'COPY . /app' })),
    });
    const configDigest = sha256(config);
    await mapConcurrent(spec.layers, this.concurrency, (layer) => this.pushBlob(repository, layer.bytes, layer.digest));
    await this.pushBlob(repository, config, configDigest);
    const mediaType = docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
    const manifest = jsonBytes({
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
        digest: configDigest,
        size: config.length,
      },
      layers: spec.layers.map((layer) => ({
        mediaType: docker ? MEDIA_TYPES.dockerLayer : MEDIA_TYPES.ociLayer,
        digest: layer.digest,
        size: layer.bytes.length,
      })),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    });
    const tags = spec.tags ?? [];
    let descriptor: Descriptor = { mediaType, digest: sha256(manifest), size: manifest.length };
    if (tags.length === 0) descriptor = await this.pushManifest(repository, null, manifest, mediaType);
    else await this.tag(repository, manifest, mediaType, tags);
    return {
      repository,
      manifest: { ...descriptor, platform },
      digest: descriptor.digest,
      tags,
      created: spec.created,
      blobs: [configDigest, ...spec.layers.map((layer) => layer.digest)],
      children: [],
      bytes: manifest,
    };
  }

  /**
   * Pushes a multi-arch image: one child image per platform (by digest), then the index under
   * `tags`. `format: 'docker'` makes a Docker manifest list of Docker v2 manifests (no annotations,
   * so its time comes from its children); `attestations` adds buildx's in-toto attestation
   * manifest per platform (platform unknown/unknown, `vnd.docker.reference.*` annotations).
   */
  async pushIndex(
    repository: string,
    spec: Omit<ImageSpec, 'platform' | 'layers'> & {
      readonly platforms: readonly { architecture: string; os: string; variant?: string }[];
      readonly platformLayers: (platform: string) => readonly Layer[];
      readonly attestations?: boolean;
    },
  ): Promise<PushedImage & { readonly bytes: Uint8Array }> {
    const docker = spec.format === 'docker';
    const children: PushedImage[] = [];
    const attestations: PushedImage[] = [];
    for (const platform of spec.platforms) {
      const name = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
      const child = await this.pushImage(repository, {
        created: spec.created,
        layers: spec.platformLayers(name),
        platform,
        ...(docker ? { format: 'docker' as const } : {}),
        ...(spec.label ? { label: `${spec.label} ${name}` } : {}),
      });
      children.push(child);
      if (spec.attestations && !docker) attestations.push(await this.pushAttestation(repository, child));
    }
    const mediaType = docker ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex;
    const index = jsonBytes({
      schemaVersion: 2,
      mediaType,
      manifests: [...children, ...attestations].map((child) => child.manifest),
      ...(docker
        ? {}
        : { annotations: { 'org.opencontainers.image.created': spec.created, ...(spec.annotations ?? {}) } }),
    });
    const tags = spec.tags ?? [];
    let descriptor: Descriptor = { mediaType, digest: sha256(index), size: index.length };
    if (tags.length === 0) descriptor = await this.pushManifest(repository, null, index, mediaType);
    else await this.tag(repository, index, mediaType, tags);
    const all = [...children, ...attestations];
    return {
      repository,
      manifest: descriptor,
      digest: descriptor.digest,
      tags,
      created: spec.created,
      blobs: [...new Set(all.flatMap((child) => child.blobs))],
      children: all,
      bytes: index,
    };
  }

  /** buildx's provenance attestation for one platform image: an in-toto layer, listed in the index. */
  private async pushAttestation(repository: string, subject: PushedImage): Promise<PushedImage> {
    const statement = jsonBytes({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: `pkg:docker/${repository}`, digest: { sha256: subject.digest.slice('sha256:'.length) } }],
      predicate: { builder: { id: 'regprune-seed' } },
    });
    const statementDigest = sha256(statement);
    const config = jsonBytes({
      architecture: 'unknown',
      os: 'unknown',
      config: {},
      rootfs: { type: 'layers', diff_ids: [statementDigest] },
    });
    const configDigest = sha256(config);
    await this.pushBlob(repository, statement, statementDigest);
    await this.pushBlob(repository, config, configDigest);
    const manifest = jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
      layers: [
        {
          mediaType: 'application/vnd.in-toto+json',
          digest: statementDigest,
          size: statement.length,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
        },
      ],
    });
    const pushed = await this.pushManifest(repository, null, manifest, MEDIA_TYPES.ociManifest);
    return {
      repository,
      manifest: {
        ...pushed,
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: {
          'vnd.docker.reference.digest': subject.digest,
          'vnd.docker.reference.type': 'attestation-manifest',
        },
      },
      digest: pushed.digest,
      tags: [],
      created: subject.created,
      blobs: [configDigest, statementDigest],
      children: [],
    };
  }

  /**
   * Signs like `cosign sign` does on a registry without the referrers API: a manifest whose layer
   * is the simple-signing payload, tagged `sha256-<hex>.sig`.
   */
  async pushCosignSignature(repository: string, subject: Descriptor): Promise<PushedImage> {
    const payload = jsonBytes({
      critical: {
        identity: { 'docker-reference': repository },
        image: { 'docker-manifest-digest': subject.digest },
        type: 'cosign container image signature',
      },
      optional: null,
    });
    const payloadDigest = sha256(payload);
    // cosign writes a config with the zero time: a signature has no meaningful push time.
    const config = jsonBytes({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [payloadDigest] },
      config: {},
    });
    const configDigest = sha256(config);
    await this.pushBlob(repository, payload, payloadDigest);
    await this.pushBlob(repository, config, configDigest);
    const manifest = jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, size: config.length, digest: configDigest },
      layers: [
        {
          mediaType: MEDIA_TYPES.cosignSignature,
          size: payload.length,
          digest: payloadDigest,
          annotations: { 'dev.cosignproject.cosign/signature': Buffer.from(sha256(payload)).toString('base64') },
        },
      ],
    });
    const tag = `${subject.digest.replace(':', '-')}.sig`;
    const descriptor = await this.pushManifest(repository, tag, manifest, MEDIA_TYPES.ociManifest);
    return {
      repository,
      manifest: descriptor,
      digest: descriptor.digest,
      tags: [tag],
      created: '0001-01-01T00:00:00Z',
      blobs: [configDigest, payloadDigest],
      children: [],
    };
  }

  /**
   * Attaches an OCI 1.1 artifact (an SBOM) to `subject` like oras does on a registry without the
   * referrers API: the artifact manifest (with `subject`) by digest, then the referrers index
   * under the fallback tag `sha256-<hex>` listing it.
   */
  async pushReferrer(
    repository: string,
    subject: Descriptor,
    options: { created: string; artifactType?: string },
  ): Promise<{ artifact: PushedImage; fallbackTag: string; fallbackDigest: string }> {
    const artifactType = options.artifactType ?? 'application/spdx+json';
    const empty = encoder.encode('{}');
    const emptyDigest = sha256(empty);
    const sbom = jsonBytes({ spdxVersion: 'SPDX-2.3', name: subject.digest, created: options.created });
    const sbomDigest = sha256(sbom);
    await this.pushBlob(repository, empty, emptyDigest);
    await this.pushBlob(repository, sbom, sbomDigest);
    const manifest = jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType,
      config: { mediaType: MEDIA_TYPES.ociEmpty, digest: emptyDigest, size: empty.length },
      layers: [{ mediaType: artifactType, digest: sbomDigest, size: sbom.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': options.created },
    });
    const descriptor = await this.pushManifest(repository, null, manifest, MEDIA_TYPES.ociManifest);
    const fallbackTag = subject.digest.replace(':', '-');
    const index = jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { ...descriptor, artifactType, annotations: { 'org.opencontainers.image.created': options.created } },
      ],
    });
    const fallback = await this.pushManifest(repository, fallbackTag, index, MEDIA_TYPES.ociIndex);
    return {
      artifact: {
        repository,
        manifest: descriptor,
        digest: descriptor.digest,
        tags: [],
        created: options.created,
        blobs: [emptyDigest, sbomDigest],
        children: [],
      },
      fallbackTag,
      fallbackDigest: fallback.digest,
    };
  }
}

/** ISO time `days` (fractional allowed) before `now`. */
export function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}

export interface BuildHistoryOptions {
  /** Number of builds; build i (1-based) is tagged `${prefix}${i}`. */
  readonly builds: number;
  readonly prefix?: string;
  /** Time of build 1 and of the last build (the rest are spread evenly between). */
  readonly firstCreated: string;
  readonly lastCreated: string;
  /** Base layers every build shares. */
  readonly baseLayers: readonly Layer[];
  /** Give each build a small layer of its own (default true): distinct images, like real app builds. */
  readonly appLayer?: boolean;
  readonly format?: 'oci' | 'docker';
  /** Extra tags for some builds: build number → tags. */
  readonly extraTags?: Readonly<Record<number, readonly string[]>>;
  readonly concurrency?: number;
}

/** Pushes `builds` images of one repository, oldest first in time; returns them by build number (index 0 = build 1). */
export async function pushBuildHistory(
  pusher: RegistryPusher,
  repository: string,
  options: BuildHistoryOptions,
): Promise<Array<PushedImage & { readonly bytes: Uint8Array }>> {
  const prefix = options.prefix ?? 'b';
  const first = Date.parse(options.firstCreated);
  const last = Date.parse(options.lastCreated);
  const step = options.builds > 1 ? (last - first) / (options.builds - 1) : 0;
  // Base layers first, once, so that concurrent builds mount rather than upload them.
  for (const layer of options.baseLayers) await pusher.pushBlob(repository, layer.bytes, layer.digest);
  const numbers = Array.from({ length: options.builds }, (_, i) => i + 1);
  return mapConcurrent(numbers, options.concurrency ?? 6, (n) =>
    pusher.pushImage(repository, {
      tags: [`${prefix}${n}`, ...(options.extraTags?.[n] ?? [])],
      created: new Date(first + step * (n - 1)).toISOString(),
      layers:
        options.appLayer === false
          ? options.baseLayers
          : [...options.baseLayers, makeLayer(`${repository} ${prefix}${n}`, 256)],
      label: `${repository} ${prefix}${n}`,
      ...(options.format ? { format: options.format } : {}),
    }),
  );
}
