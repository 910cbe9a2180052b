/**
 * Image references as workloads write them (`nginx`, `ghcr.io/org/app:1.2`,
 * `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:…`), normalized the way a container
 * runtime resolves them, and matched to the registries of the config by host
 * (docs/design.md, "In-use protection").
 */
/** A reference split into the parts retention needs; `host` is lower-case, Docker Hub is `docker.io`. */
export interface ImageReference {
  readonly host: string;
  readonly repository: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

const DOCKER_HUB = 'docker.io';
/** Names Docker Hub answers to; a runtime treats them as one registry. */
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
/** Prefixes runtimes put before a resolved image id (`docker-pullable://`, `containerd://`). */
const RUNTIME_PREFIX = /^[a-z-]+:\/\//;

/** The canonical form of a registry host: lower-case, Docker Hub's aliases as `docker.io`. */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/**
 * Parses a reference; null when it is not one (an empty string, a bare image id `sha256:…` with
 * no repository, which names a config blob, not something a registry can be asked for).
 */
export function parseReference(text: string): ImageReference | null {
  const trimmed = text.trim().replace(RUNTIME_PREFIX, '');
  // A bare `sha256:…` is an image id (a config digest on some runtimes), not a pullable name.
  if (trimmed === '' || /\s/.test(trimmed) || trimmed.startsWith('sha256:')) return null;
  let rest = trimmed;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return null;
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return null;
  }
  if (rest === '') return null;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // Docker's rule: the first component is a host when it has a dot or a port, or is localhost.
  const isHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = canonicalHost(isHost ? first : DOCKER_HUB);
  let repository = isHost ? rest.slice(slash + 1) : rest;
  if (repository === '' || repository !== repository.toLowerCase() || repository.includes(':')) return null;
  if (host === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (tag === null && digest === null) tag = 'latest';
  return { host, repository, tag, digest };
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/**
 * The hosts a registry of the config is pulled from: what workloads write before the repository.
 * ECR answers to its FIPS and dual-stack names too; a URL endpoint with or without its default port.
 */
export function registryHosts(registry: { readonly provider: string; readonly endpoint: string }): string[] {
  if (registry.provider === 'ecr') {
    const host = canonicalHost(registry.endpoint);
    const match = ECR_HOST.exec(host);
    if (match === null || match[3] !== undefined) return [host];
    const [, account, region] = match;
    return [
      host,
      `${account}.dkr.ecr-fips.${region}.amazonaws.com`,
      `${account}.dkr-ecr.${region}.on.aws`,
      `${account}.dkr-ecr-fips.${region}.on.aws`,
    ];
  }
  const url = new URL(registry.endpoint);
  const port = url.protocol === 'https:' ? '443' : '80';
  const bare = canonicalHost(url.hostname);
  // `new URL` drops a default port: a reference may still write it (`registry.example.com:443/app`).
  return url.port === '' ? [canonicalHost(url.host), `${bare}:${port}`] : [canonicalHost(url.host)];
}

/** The main pull host of a registry (the first of `registryHosts`). */
export function registryHost(registry: { readonly provider: string; readonly endpoint: string }): string {
  return registryHosts(registry)[0]!;
}
