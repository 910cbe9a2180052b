/**
 * The fault matrix's registry content: small (a prune deletes 27 manifests in a few seconds) but
 * with every shape whose deletion order matters: signed single images, signed multi-arch indexes
 * with buildx attestations, images with an OCI 1.1 SBOM behind the referrers fallback tag, and a
 * pinned release. Times are fixed, so the same seed gives the same digests on every machine.
 */
import type { ManifestKind } from './fault-proxy.js';
import { makeLayer, pushBuildHistory, RegistryPusher } from './seed.js';

/** Every build is older than this: fixed, so digests never change, and far in the past, so minAge never matters. */
const SEED_TIME_MS = Date.parse('2025-06-01T00:00:00.000Z');
const day = (n: number) => new Date(SEED_TIME_MS - n * 86_400_000).toISOString();

export interface FaultSeed {
  /** `repository@digest` → what the manifest is (what the proxy classifies a DELETE by). */
  readonly kinds: ReadonlyMap<string, ManifestKind>;
  /** The config's `repositories` rules for this content. */
  readonly rules: ReadonlyArray<Record<string, unknown>>;
}

export const FAULT_SEED_REPOSITORIES = ['app/web', 'app/multi', 'tools/cli'] as const;

/** Pushes the seed to `registryUrl` (directly, not through a proxy). */
export async function seedFaultRegistry(registryUrl: string): Promise<FaultSeed> {
  const pusher = new RegistryPusher(registryUrl);
  const kinds = new Map<string, ManifestKind>();
  const base = makeLayer('fault matrix: base', 2048);

  // app/web: 8 signed builds; keep 3, latest (on b8) and the pinned release-1 (on b2): 3 images and
  // their 3 signatures go.
  const seedWeb = async () => {
    const web = await pushBuildHistory(pusher, 'app/web', {
      builds: 8,
      firstCreated: day(40),
      lastCreated: day(5),
      baseLayers: [base],
      extraTags: { 2: ['release-1'], 8: ['latest'] },
    });
    for (const build of web) {
      kinds.set(`app/web@${build.digest}`, 'image');
      const signature = await pusher.pushCosignSignature('app/web', build.manifest);
      kinds.set(`app/web@${signature.digest}`, 'signature');
    }
  };

  // app/multi: 4 signed two-platform indexes with attestations; keep 1 and latest (on m4): 2 indexes,
  // their 2 signatures and 8 followers (2 platform manifests and 2 attestations each) go.
  const seedMulti = async () => {
    for (let build = 1; build <= 4; build++) {
      const index = await pusher.pushIndex('app/multi', {
        tags: build === 4 ? [`m${build}`, 'latest'] : [`m${build}`],
        created: day(30 - build * 5),
        platforms: [
          { architecture: 'amd64', os: 'linux' },
          { architecture: 'arm64', os: 'linux', variant: 'v8' },
        ],
        platformLayers: (platform) => [base, makeLayer(`fault matrix: multi m${build} ${platform}`, 512)],
        attestations: true,
      });
      kinds.set(`app/multi@${index.digest}`, 'index');
      for (const child of index.children) {
        const isAttestation = child.manifest.platform?.architecture === 'unknown';
        kinds.set(`app/multi@${child.digest}`, isAttestation ? 'attestation' : 'child');
      }
      const signature = await pusher.pushCosignSignature('app/multi', index.manifest);
      kinds.set(`app/multi@${signature.digest}`, 'signature');
    }
  };

  // tools/cli: 4 builds, each with an SBOM behind the referrers fallback tag; keep 1: 3 images, 3
  // fallback indexes and 3 SBOM manifests go (27 deletions in all).
  const seedTools = async () => {
    const tools = await pushBuildHistory(pusher, 'tools/cli', {
      builds: 4,
      prefix: 'c',
      firstCreated: day(20),
      lastCreated: day(2),
      baseLayers: [base],
    });
    for (const build of tools) {
      kinds.set(`tools/cli@${build.digest}`, 'image');
      const sbom = await pusher.pushReferrer('tools/cli', build.manifest, { created: build.created });
      kinds.set(`tools/cli@${sbom.artifact.digest}`, 'referrer');
      kinds.set(`tools/cli@${sbom.fallbackDigest}`, 'referrer-index');
    }
  };

  // The base layer first, so that the three repositories mount it rather than race to upload it.
  await pusher.pushBlob('app/web', base.bytes, base.digest);
  await Promise.all([seedWeb(), seedMulti(), seedTools()]);

  return {
    kinds,
    rules: [
      { match: 'app/web', keep: 3, pinned: ['release-*'] },
      { match: 'app/multi', keep: 1 },
      { match: 'tools/cli', keep: 1 },
    ],
  };
}
