/**
 * Reads a registry the way a client pulling an image does, verifying every digest: the proof
 * that a kept tag still works after pruning and garbage collection. Also wraps `skopeo`, an
 * independent client, as a second opinion.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { MANIFEST_ACCEPT, MEDIA_TYPES, sha256 } from './seed.js';

const MAX_PAGES = 1_000; // bound on Link-paging loops

export interface PullResult {
  readonly digest: string;
  /** Manifests fetched (the index and each child). */
  readonly manifests: number;
  /** Blobs fetched (configs and layers), each verified. */
  readonly blobs: number;
  readonly bytes: number;
}

export interface ManifestJson {
  mediaType?: string;
  manifests?: Array<{ digest: string }>;
  config?: { digest: string; size: number };
  layers?: Array<{ digest: string; size: number }>;
}

/** A plain-fetch registry reader: catalog, tags, resolve, full verified pulls. */
export class RegistryReader {
  /** HTTP requests sent so far. */
  requests = 0;

  constructor(
    readonly baseUrl: string,
    /** Sent with every request (e.g. `authorization` for a registry with basic auth). */
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  private async get(path: string, init: RequestInit = {}): Promise<Response> {
    this.requests++;
    const headers = { ...this.headers, ...((init.headers as Record<string, string> | undefined) ?? {}) };
    return fetch(new URL(path, this.baseUrl), { ...init, headers });
  }

  private async paged<T>(firstPath: string, pick: (body: unknown) => T[]): Promise<T[]> {
    const out: T[] = [];
    let path: string | null = firstPath;
    for (let page = 0; path !== null && page < MAX_PAGES; page++) {
      const response = await this.get(path);
      if (response.status === 404) {
        await response.arrayBuffer();
        return out;
      }
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      out.push(...pick(await response.json()));
      const link = response.headers.get('link');
      const next = link === null ? null : /<([^>]+)>;\s*rel="next"/.exec(link);
      path = next ? next[1]! : null;
    }
    return out;
  }

  /** Every repository name (follows `Link` paging). */
  async catalog(): Promise<string[]> {
    return this.paged('/v2/_catalog?n=100', (body) => (body as { repositories?: string[] }).repositories ?? []);
  }

  /** Every tag of a repository, sorted; `[]` when the repository has none (or is unknown). */
  async tags(repository: string): Promise<string[]> {
    const tags = await this.paged(
      `/v2/${repository}/tags/list`,
      (body) => (body as { tags?: string[] | null }).tags ?? [],
    );
    return tags.sort();
  }

  /** The digest a tag (or digest) resolves to now, or `null` when the registry answers 404. */
  async resolve(repository: string, reference: string): Promise<string | null> {
    const response = await this.get(`/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`HEAD ${repository}:${reference}: ${response.status}`);
    return response.headers.get('docker-content-digest');
  }

  /** Tag → digest for every tag of a repository (sorted by tag). */
  async snapshot(repository: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const tag of await this.tags(repository)) {
      const digest = await this.resolve(repository, tag);
      if (digest === null) throw new Error(`${repository}:${tag} is listed but does not resolve`);
      out[tag] = digest;
    }
    return out;
  }

  /**
   * Pulls a tag or digest completely (manifest, index children, config, every layer); throws on any missing blob or
   * wrong digest.
   */
  async pull(repository: string, reference: string): Promise<PullResult> {
    const response = await this.get(`/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (!response.ok) throw new Error(`pull ${repository}:${reference}: manifest answered ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    const digest = sha256(body);
    const header = response.headers.get('docker-content-digest');
    if (header !== null && header !== digest)
      throw new Error(`pull ${repository}:${reference}: manifest digest ${digest} ≠ header ${header}`);
    if (reference.startsWith('sha256:') && reference !== digest)
      throw new Error(`pull ${repository}@${reference}: got manifest ${digest}`);
    const manifest = JSON.parse(new TextDecoder().decode(body)) as ManifestJson;
    let manifests = 1;
    let blobs = 0;
    let bytes = body.length;
    const isIndex =
      manifest.mediaType === MEDIA_TYPES.ociIndex ||
      manifest.mediaType === MEDIA_TYPES.dockerList ||
      Array.isArray(manifest.manifests);
    if (isIndex) {
      for (const child of manifest.manifests ?? []) {
        const pulled = await this.pull(repository, child.digest);
        manifests += pulled.manifests;
        blobs += pulled.blobs;
        bytes += pulled.bytes;
      }
    } else {
      for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])]) {
        bytes += await this.pullBlob(repository, blob.digest, blob.size);
        blobs++;
      }
    }
    return { digest, manifests, blobs, bytes };
  }

  /** The parsed manifest at a tag or digest. */
  async manifest(repository: string, reference: string): Promise<ManifestJson> {
    const response = await this.get(`/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (!response.ok) throw new Error(`GET manifest ${repository}:${reference}: ${response.status}`);
    return (await response.json()) as ManifestJson;
  }

  /** Fetches one blob and checks its digest and size; returns its size. */
  async pullBlob(repository: string, digest: string, size?: number): Promise<number> {
    const response = await this.get(`/v2/${repository}/blobs/${digest}`);
    if (!response.ok) throw new Error(`pull ${repository}: blob ${digest} answered ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (sha256(bytes) !== digest) throw new Error(`pull ${repository}: blob ${digest} has digest ${sha256(bytes)}`);
    if (size !== undefined && bytes.length !== size)
      throw new Error(`pull ${repository}: blob ${digest} has ${bytes.length} bytes, manifest says ${size}`);
    return bytes.length;
  }
}

/** What a registry holds, counted the way a pull sees it. */
export interface Census {
  readonly repositories: number;
  readonly tags: number;
  /** Distinct manifests reachable from tags (index children included), per repository. */
  readonly manifests: number;
  /** Distinct blobs (configs and layers) across the registry: what its storage deduplicates. */
  readonly blobs: number;
  readonly blobBytes: number;
}

/** Counts repositories, tags, reachable manifests and unique blobs (by reading every manifest once). */
export async function census(reader: RegistryReader): Promise<Census> {
  const blobSizes = new Map<string, number>();
  let tags = 0;
  let manifests = 0;
  const repositories = await reader.catalog();
  for (const repository of repositories) {
    const snapshot = await reader.snapshot(repository);
    tags += Object.keys(snapshot).length;
    const seen = new Set<string>();
    const queue = [...new Set(Object.values(snapshot))];
    while (queue.length > 0) {
      const digest = queue.pop()!;
      if (seen.has(digest)) continue;
      seen.add(digest);
      const manifest = await reader.manifest(repository, digest);
      for (const child of manifest.manifests ?? []) queue.push(child.digest);
      for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])])
        blobSizes.set(blob.digest, blob.size);
    }
    manifests += seen.size;
  }
  let blobBytes = 0;
  for (const size of blobSizes.values()) blobBytes += size;
  return { repositories: repositories.length, tags, manifests, blobs: blobSizes.size, blobBytes };
}

/** Why skopeo cannot run here, or `null` when it can. */
export function skopeoUnavailableReason(): string | null {
  const probe = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    return `cannot run "skopeo --version"; install it with: sudo apt-get install -y skopeo`;
  return null;
}

/** Runs skopeo; resolves with stdout, rejects with its stderr when it fails. */
export function skopeo(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`skopeo ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

/** `skopeo copy` of a reference (all platforms) into `dir:`; returns the files it wrote. */
export async function skopeoCopyAll(
  host: string,
  repository: string,
  reference: string,
  destination: string,
): Promise<string[]> {
  const at = reference.startsWith('sha256:') ? `@${reference}` : `:${reference}`;
  await skopeo([
    'copy',
    '--all',
    '--src-tls-verify=false',
    '--quiet',
    `docker://${host}/${repository}${at}`,
    `dir:${destination}`,
  ]);
  return (await readdir(destination)).sort();
}

/** `skopeo inspect --raw` digest of a reference, as skopeo computes it. */
export async function skopeoManifestDigest(host: string, repository: string, reference: string): Promise<string> {
  const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/${repository}:${reference}`]);
  return sha256(raw);
}
