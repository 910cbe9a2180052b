/**
 * Reads a stopped-or-running registry 2.8's filesystem storage directly: which blobs it holds,
 * where each tag points, which manifests each repository still links, and which blobs the tags
 * reach. The API cannot show untagged manifests (issue 11: a crash strands them where no run sees
 * them); the disk can.
 *
 * What counts (issue 11, "no blob remains that no tag reaches"): a blob is reached when it is a manifest a tag points
 * at, or a manifest an index so reached lists (recursively), or the config, a layer or a `blobs`
 * entry of such a manifest. A referrer is reached only through a tag (cosign's `sha256-….sig`, the
 * referrers fallback tag `sha256-…`); `subject` is not followed, since a subject does not keep its
 * referrers alive. After `garbage-collect` (without `--delete-untagged`, which on 2.8 also removes
 * the platform children of tagged indexes), every blob that remains and is not reached is stray.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const V2 = ['docker', 'registry', 'v2'];

export interface StoreState {
  /** Every blob digest under `blobs/` (manifests, configs and layers alike). */
  readonly blobs: ReadonlySet<string>;
  /** `repository:tag` → digest, for every tag. */
  readonly tags: ReadonlyMap<string, string>;
  /** `repository` → manifest digests it links (`_manifests/revisions`), tagged or not. */
  readonly revisions: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Reachability {
  /** Blobs the tags reach (see the file comment). */
  readonly reachable: ReadonlySet<string>;
  /** `repository@digest` of manifests that are linked but no tag reaches: invisible to the API. */
  readonly strandedManifests: readonly string[];
  /** Blobs stored that no tag reaches. */
  readonly strayBlobs: readonly string[];
  /** `what → digest` for blobs a reached manifest names but the store lacks (a broken tag). */
  readonly missing: readonly string[];
}

async function entries(path: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

async function readLink(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** Every blob digest the store holds (`blobs/sha256/xx/<hex>/data`). */
export async function blobSet(storageDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  const root = join(storageDir, ...V2, 'blobs');
  for (const algorithm of await entries(root)) {
    if (!algorithm.isDirectory()) continue;
    for (const prefix of await entries(join(root, algorithm.name))) {
      if (!prefix.isDirectory()) continue;
      for (const blob of await entries(join(root, algorithm.name, prefix.name))) {
        const data = await entries(join(root, algorithm.name, prefix.name, blob.name));
        if (data.some((entry) => entry.name === 'data')) out.add(`${algorithm.name}:${blob.name}`);
      }
    }
  }
  return out;
}

/** Repository name → its directory, for every directory holding `_manifests` (names may nest: `app/web`). */
async function repositories(storageDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = join(storageDir, ...V2, 'repositories');
  const walk = async (dir: string, name: string): Promise<void> => {
    for (const entry of await entries(dir)) {
      if (!entry.isDirectory()) continue;
      if (entry.name === '_manifests') out.set(name, dir);
      else if (!entry.name.startsWith('_'))
        await walk(join(dir, entry.name), name ? `${name}/${entry.name}` : entry.name);
    }
  };
  await walk(root, '');
  return out;
}

/** Blobs, tags and manifest links as they are on disk now. */
export async function storeState(storageDir: string): Promise<StoreState> {
  const tags = new Map<string, string>();
  const revisions = new Map<string, Set<string>>();
  for (const [repository, dir] of await repositories(storageDir)) {
    for (const tag of await entries(join(dir, '_manifests', 'tags'))) {
      const digest = await readLink(join(dir, '_manifests', 'tags', tag.name, 'current', 'link'));
      if (digest !== null) tags.set(`${repository}:${tag.name}`, digest);
    }
    const linked = new Set<string>();
    const revisionRoot = join(dir, '_manifests', 'revisions');
    for (const algorithm of await entries(revisionRoot)) {
      for (const revision of await entries(join(revisionRoot, algorithm.name))) {
        const digest = await readLink(join(revisionRoot, algorithm.name, revision.name, 'link'));
        if (digest !== null) linked.add(digest);
      }
    }
    revisions.set(repository, linked);
  }
  return { blobs: await blobSet(storageDir), tags, revisions };
}

interface ManifestFields {
  manifests?: Array<{ digest?: string }>;
  config?: { digest?: string };
  layers?: Array<{ digest?: string }>;
  blobs?: Array<{ digest?: string }>;
}

async function readManifest(storageDir: string, digest: string): Promise<ManifestFields | null> {
  const [algorithm, hex] = digest.split(':');
  if (algorithm === undefined || hex === undefined) return null;
  try {
    const path = join(storageDir, ...V2, 'blobs', algorithm, hex.slice(0, 2), hex, 'data');
    return JSON.parse(await readFile(path, 'utf8')) as ManifestFields;
  } catch {
    return null;
  }
}

/** What the tags reach, what is stored beyond it, and which linked manifests no tag reaches. */
export async function reachability(storageDir: string, state?: StoreState): Promise<Reachability> {
  const store = state ?? (await storeState(storageDir));
  const reachable = new Set<string>();
  const reachedManifests = new Map<string, Set<string>>();
  const missing: string[] = [];
  for (const [reference, tagDigest] of store.tags) {
    const repository = reference.slice(0, reference.lastIndexOf(':'));
    const reached = reachedManifests.get(repository) ?? new Set<string>();
    reachedManifests.set(repository, reached);
    const queue: Array<{ digest: string; via: string }> = [{ digest: tagDigest, via: reference }];
    while (queue.length > 0) {
      const { digest, via } = queue.pop()!;
      if (reached.has(digest)) continue;
      reached.add(digest);
      reachable.add(digest);
      const manifest = await readManifest(storageDir, digest);
      if (manifest === null) {
        missing.push(`${via} → manifest ${digest}`);
        continue;
      }
      for (const child of manifest.manifests ?? []) if (child.digest) queue.push({ digest: child.digest, via });
      const referenced = [manifest.config, ...(manifest.layers ?? []), ...(manifest.blobs ?? [])];
      for (const blob of referenced) {
        if (!blob?.digest) continue;
        reachable.add(blob.digest);
        if (!store.blobs.has(blob.digest)) missing.push(`${via} → blob ${blob.digest}`);
      }
    }
  }
  const strandedManifests: string[] = [];
  for (const [repository, linked] of store.revisions) {
    const reached = reachedManifests.get(repository) ?? new Set<string>();
    for (const digest of linked) if (!reached.has(digest)) strandedManifests.push(`${repository}@${digest}`);
  }
  const strayBlobs = [...store.blobs].filter((digest) => !reachable.has(digest));
  return {
    reachable,
    strandedManifests: strandedManifests.sort(),
    strayBlobs: strayBlobs.sort(),
    missing: [...new Set(missing)].sort(),
  };
}

/** Lines naming how two stores differ in blobs and tags (empty when they hold the same): for `toEqual([])`. */
export function storeDifferences(actual: StoreState, expected: StoreState): string[] {
  const lines: string[] = [];
  for (const digest of actual.blobs) if (!expected.blobs.has(digest)) lines.push(`extra blob ${digest}`);
  for (const digest of expected.blobs) if (!actual.blobs.has(digest)) lines.push(`missing blob ${digest}`);
  for (const [reference, digest] of expected.tags) {
    const now = actual.tags.get(reference);
    if (now === undefined) lines.push(`missing tag ${reference} (expected → ${digest})`);
    else if (now !== digest) lines.push(`tag ${reference} → ${now}, expected → ${digest}`);
  }
  for (const [reference, digest] of actual.tags)
    if (!expected.tags.has(reference)) lines.push(`extra tag ${reference} → ${digest}`);
  return lines.sort();
}
