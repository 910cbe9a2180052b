/**
 * Small fixture builders for images, inventories and policies, shared by every test:
 *   image({ tags: ['v1'], pushedAt: daysAgo(3, NOW) })
 *   index({ tags: ['latest'], children: [amd64, arm64] })
 *   referrer(img, { tags: [cosignTag(img, 'sig')] })
 * Digests are the sha256 of a name (given, or a counter), so a test can refer to them by name.
 */
import { createHash } from 'node:crypto';
import type { Policy } from '../../lib/config/policy.js';
import { compilePattern } from '../../lib/config/pattern.js';
import { parseDuration } from '../../lib/config/duration.js';
import type { Image, Inventory, ManifestKind } from '../../lib/model.js';

/** The fixed "now" tests plan against. */
export const NOW = new Date('2026-03-15T12:00:00.000Z');

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** `days` before `now` (fractions allowed). */
export function daysAgo(days: number, now: Date = NOW): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/** `hours` before `now`. */
export function hoursAgo(hours: number, now: Date = NOW): Date {
  return new Date(now.getTime() - hours * HOUR_MS);
}

/** `sha256:<hex>` of a name: stable, so tests can name images instead of spelling digests. */
export function digestOf(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/** cosign's tag for a referrer of `subject`: `sha256-<hex>.sig` (or `.att`, `.sbom`). */
export function cosignTag(subject: Image | string, suffix: 'sig' | 'att' | 'sbom' = 'sig'): string {
  const digest = typeof subject === 'string' ? subject : subject.digest;
  return `${digest.replace(':', '-')}.${suffix}`;
}

export interface ImageSpec {
  /** Names the digest (`digestOf(name)`); a fresh name when neither `name` nor `digest` is given. */
  readonly name?: string;
  readonly digest?: string;
  readonly tags?: readonly string[];
  readonly kind?: ManifestKind;
  /** Default: 30 days before NOW (old enough to be past any grace period in these tests). `null` = unknown. */
  readonly pushedAt?: Date | null;
  /** Default: never pulled (unknown). */
  readonly pulledAt?: Date | null;
  readonly sizeBytes?: number | null;
  readonly children?: readonly (Image | string)[];
  readonly subject?: Image | string | null;
  readonly locked?: boolean;
}

let unnamed = 0;

function digestOfSpec(spec: ImageSpec): string {
  if (spec.digest !== undefined) return spec.digest;
  return digestOf(spec.name ?? `image-${++unnamed}`);
}

function toDigest(ref: Image | string): string {
  return typeof ref === 'string' ? ref : ref.digest;
}

const MEDIA_TYPE: Record<ManifestKind, string> = {
  image: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  artifact: 'application/vnd.oci.image.manifest.v1+json',
};

/** An image (a single-platform manifest unless `kind` says otherwise) with sensible defaults. */
export function image(spec: ImageSpec = {}): Image {
  const kind = spec.kind ?? (spec.children && spec.children.length > 0 ? 'index' : spec.subject ? 'artifact' : 'image');
  const pushedAt = spec.pushedAt === undefined ? daysAgo(30) : spec.pushedAt;
  return {
    digest: digestOfSpec(spec),
    tags: [...(spec.tags ?? [])],
    kind,
    mediaType: MEDIA_TYPE[kind],
    pushedAtMs: pushedAt === null ? null : pushedAt.getTime(),
    timeSource: pushedAt === null ? 'unknown' : 'registry',
    lastPulledAtMs: spec.pulledAt ? spec.pulledAt.getTime() : null,
    sizeBytes: spec.sizeBytes === undefined ? 1_000 : spec.sizeBytes,
    children: (spec.children ?? []).map(toDigest),
    subject: spec.subject === undefined || spec.subject === null ? null : toDigest(spec.subject),
    locked: spec.locked ?? false,
  };
}

/** A multi-arch index listing `children`. */
export function index(spec: ImageSpec & { readonly children: readonly (Image | string)[] }): Image {
  return image({ ...spec, kind: 'index' });
}

/** A referrer (signature, attestation, SBOM) of `subject`; untagged unless `tags` says otherwise. */
export function referrer(subject: Image | string, spec: ImageSpec = {}): Image {
  return image({ ...spec, kind: 'artifact', subject });
}

/** One repository's inventory. */
export function inventory(
  images: readonly Image[],
  where: { readonly registry?: string; readonly repository?: string; readonly warnings?: readonly string[] } = {},
): Inventory {
  return {
    registry: where.registry ?? 'test',
    repository: where.repository ?? 'app/web',
    images,
    warnings: where.warnings ?? [],
  };
}

export interface PolicySpec {
  readonly keep?: number;
  /** Globs or /regex/, as in the config file. */
  readonly pinned?: readonly string[];
  /** Durations as in the config file (`3d`, `PT12H`). */
  readonly minAge?: string;
  readonly untagged?: Policy['untagged'];
  readonly order?: Policy['order'];
  readonly keepPulledWithin?: string | null;
  readonly olderThan?: string | null;
}

function durationMs(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(`test policy: ${parsed.error}`);
  return parsed.ms;
}

/**
 * A resolved policy. Defaults are deliberately neutral so each test states what it relies on:
 * keep 1, nothing pinned, no grace, untagged kept, order by push time, no pull or age rules.
 */
export function policy(spec: PolicySpec = {}): Policy {
  return {
    keep: spec.keep ?? 1,
    pinned: (spec.pinned ?? []).map((source) => {
      const compiled = compilePattern(source);
      if (!compiled.ok) throw new Error(`test policy: ${compiled.error}`);
      return compiled.pattern;
    }),
    minAgeMs: durationMs(spec.minAge ?? '0s'),
    untagged: spec.untagged ?? 'keep',
    order: spec.order ?? 'pushed',
    keepPulledWithinMs: spec.keepPulledWithin ? durationMs(spec.keepPulledWithin) : null,
    olderThanMs: spec.olderThan ? durationMs(spec.olderThan) : null,
  };
}

/**
 * A config of two OCI registries (`first`, `second`, each at `https://<name>.registry.example`)
 * pruning `app/**` with keep 1 and `latest` pinned: the hosted-run and stop tests share it.
 */
export const TWO_REGISTRIES_CONFIG = {
  version: 1,
  dryRun: false,
  defaults: { keep: 1, minAge: '0s', pinned: ['latest'] },
  registries: ['first', 'second'].map((name) => ({
    name,
    provider: 'oci',
    endpoint: `https://${name}.registry.example`,
    repositories: [{ match: 'app/**' }],
  })),
};
