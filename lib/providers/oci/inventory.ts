/**
 * Builds a repository's images from the registry: tags → manifests (one read per tag), index
 * children and referrers (one read per digest), and push times (one config read per image whose
 * time is needed). One `Image` per digest, with every tag that points at it.
 */
import { mapConcurrent } from '../../concurrency.js';
import type { BlobRef, Image, ManifestKind, TimeSource } from '../../model.js';
import {
  artifactTypeOf,
  blobsOf,
  CREATED_ANNOTATION,
  type Descriptor,
  DOCKER_REFERENCE_DIGEST_ANNOTATION,
  DOCKER_REFERENCE_TYPE_ANNOTATION,
  manifestKind,
  type ParsedManifest,
  subjectOfTag,
  subjectOfTags,
} from '../../oci/index.js';
import type { FetchedManifest, ManifestReader, UnreadableManifest } from './manifest-reader.js';

/**
 * Times at or before this are reproducible-build placeholders (SOURCE_DATE_EPOCH=0, Go's zero time), not push times.
 */
export const EARLIEST_PLAUSIBLE_TIME_MS = Date.UTC(1970, 0, 2);

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Images named in the unknown-time warning before the rest are only counted. */
const MAX_TIME_EXAMPLES = 5;

interface UnknownTime {
  readonly tags: readonly string[];
  readonly found: string;
}

export interface RepositoryInventory {
  readonly images: Image[];
  readonly warnings: string[];
  /** Whether the registry has the referrers API, once asked (undefined: nothing was tagged to ask about). */
  readonly referrersSupported?: boolean;
}

/** How a manifest was reached: decides whether its time is needed and whether to ask for its referrers. */
type Origin = 'tagged' | 'child' | 'referrer';

interface Entry {
  readonly digest: string;
  readonly manifest: ParsedManifest;
  origin: Origin;
  /** Set for a buildx attestation manifest inside an index: the sibling it describes. */
  attestationOf: string | undefined;
  /** The index that listed this manifest without a time of its own: this child's time is needed. */
  timeNeededByParent: boolean;
}

interface PushTime {
  readonly pushedAtMs: number | null;
  readonly timeSource: TimeSource;
  /** When unknown: what was found instead, for the warning. */
  readonly found?: string;
}

/** Parses an RFC 3339 time, rejecting placeholders from reproducible builds. */
export function plausibleTimeMs(text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) || ms <= EARLIEST_PLAUSIBLE_TIME_MS ? null : ms;
}

/**
 * Reads every image of the reader's repository from its tags, index children and (where supported)
 * referrers. Warnings do not name the repository: the report and the log already file them under it.
 */
export async function readInventory(options: {
  readonly tags: readonly string[];
  readonly reader: ManifestReader;
  readonly concurrency: number;
  /** What an earlier repository of this registry found out about the referrers API: not asked again. */
  readonly referrersSupported?: boolean | undefined;
  /**
   * Shares one probe among the repositories listed side by side: the first caller's `probe` runs, the
   * others wait for its answer (absent: this repository probes on its own).
   */
  readonly probeOnce?: ((probe: () => Promise<boolean>) => Promise<boolean>) | undefined;
}): Promise<RepositoryInventory> {
  const { reader, concurrency } = options;
  const warnings: string[] = [];
  const entries = new Map<string, Entry>();
  const tagsByDigest = new Map<string, string[]>();

  const byTag = await mapConcurrent(options.tags, concurrency, async (tag) => ({
    tag,
    fetched: await reader.byTag(tag),
  }));
  const unreadable = new Map<string, { answer: UnreadableManifest; tags: string[] }>();
  const vanished: string[] = [];
  for (const { tag, fetched } of byTag) {
    if (!fetched) {
      vanished.push(tag);
      continue;
    }
    if ('unreadable' in fetched) {
      const known = unreadable.get(fetched.digest) ?? { answer: fetched, tags: [] };
      known.tags.push(tag);
      unreadable.set(fetched.digest, known);
      continue;
    }
    const tags = tagsByDigest.get(fetched.digest) ?? [];
    tags.push(tag);
    tagsByDigest.set(fetched.digest, tags);
    if (!entries.has(fetched.digest)) entries.set(fetched.digest, newEntry(fetched, 'tagged'));
  }

  if (vanished.length > 0) warnings.push(vanishedTagsWarning(vanished));
  for (const { answer, tags } of unreadable.values()) {
    warnings.push(`${answer.unreadable} (tags: ${tags.sort().join(', ')}); it was left out and will not be deleted.`);
  }

  const tagged = [...entries.keys()].sort();
  // The API is the registry's, not the repository's: asked once per registry run.
  const referrersSupported =
    tagged.length > 0 &&
    (options.referrersSupported ??
      (await (options.probeOnce ?? ((probe) => probe()))(() => probeReferrers(reader, tagged[0]!))));

  // Breadth first: index children, then (where the registry has the API) referrers of anything
  // tagged or itself a referrer. Each digest is read once however many manifests list it.
  let frontier: Entry[] = [...entries.values()];
  while (frontier.length > 0) {
    const found = await mapConcurrent(frontier, concurrency, async (entry) => {
      const next: Array<{ descriptor: Descriptor; origin: Origin; parent: Entry }> = [];
      if (entry.manifest.form === 'index') {
        for (const child of entry.manifest.children) next.push({ descriptor: child, origin: 'child', parent: entry });
      }
      if (referrersSupported && entry.origin !== 'child') {
        const answer = await reader.referrers(entry.digest);
        if (answer.supported)
          for (const referrer of answer.referrers)
            next.push({ descriptor: referrer, origin: 'referrer', parent: entry });
      }
      return next;
    });
    const wanted = found.flat().filter(({ descriptor }) => !entries.has(descriptor.digest));
    const unique = [...new Map(wanted.map((item) => [item.descriptor.digest, item])).values()];
    const fetched = await mapConcurrent(unique, concurrency, async (item) => ({
      item,
      manifest: await reader.byDigestOnce(item.descriptor.digest),
    }));
    frontier = [];
    for (const { item, manifest } of fetched) {
      if (!manifest) {
        warnings.push(
          `${item.parent.digest} lists ${item.descriptor.digest}, which the registry does not have; it was left out.`,
        );
        continue;
      }
      if ('unreadable' in manifest) {
        warnings.push(`${manifest.unreadable}; it was left out and will not be deleted.`);
        continue;
      }
      if (entries.has(manifest.digest)) continue;
      const entry = newEntry(manifest, item.origin);
      const annotations = item.descriptor.annotations;
      const described = annotations?.[DOCKER_REFERENCE_DIGEST_ANNOTATION];
      if (
        item.origin === 'child' &&
        annotations?.[DOCKER_REFERENCE_TYPE_ANNOTATION] === 'attestation-manifest' &&
        described &&
        SHA256_DIGEST.test(described)
      ) {
        entry.attestationOf = described;
      }
      entries.set(manifest.digest, entry);
      frontier.push(entry);
    }
  }

  for (const entry of entries.values()) {
    if (
      entry.manifest.form === 'index' &&
      entry.origin === 'tagged' &&
      !entry.manifest.annotations[CREATED_ANNOTATION]
    ) {
      for (const child of entry.manifest.children) {
        const childEntry = entries.get(child.digest);
        if (childEntry && childEntry.attestationOf === undefined) childEntry.timeNeededByParent = true;
      }
    }
  }

  const kinds = new Map<string, ManifestKind>();
  for (const entry of entries.values()) kinds.set(entry.digest, kindOf(entry, tagsByDigest.get(entry.digest) ?? []));

  const ownTimes = new Map<string, PushTime>();
  await mapConcurrent([...entries.values()], concurrency, async (entry) => {
    ownTimes.set(
      entry.digest,
      await ownPushTime(entry, kinds.get(entry.digest)!, tagsByDigest.has(entry.digest), reader),
    );
  });

  const images: Image[] = [];
  const unknownTimes: UnknownTime[] = [];
  for (const entry of [...entries.values()].sort((a, b) => a.digest.localeCompare(b.digest))) {
    const tags = (tagsByDigest.get(entry.digest) ?? []).sort();
    const kind = kinds.get(entry.digest)!;
    const subject = entry.manifest.subject ?? subjectOfTags(tags) ?? entry.attestationOf ?? null;
    const time = entry.manifest.form === 'index' ? indexTime(entry, ownTimes) : ownTimes.get(entry.digest)!;
    const { blobs, sizeBytes } = storageOf(entry, entries);
    images.push({
      digest: entry.digest,
      tags,
      kind,
      mediaType: entry.manifest.mediaType,
      artifactType: artifactTypeOf(entry.manifest, kind),
      pushedAtMs: time.pushedAtMs,
      timeSource: time.timeSource,
      lastPulledAtMs: null,
      sizeBytes,
      blobs,
      children:
        entry.manifest.form === 'index'
          ? entry.manifest.children.map((child) => child.digest).filter((digest) => entries.has(digest))
          : [],
      subject,
      locked: false,
    });
    // A time matters only where recency is ranked: tagged manifests that follow no subject.
    if (time.pushedAtMs === null && tags.length > 0 && subject === null) {
      unknownTimes.push({ tags, found: time.found ?? 'no created time' });
    }
  }
  warnings.push(...timeWarnings(unknownTimes));
  return { images, warnings, ...(tagged.length > 0 ? { referrersSupported } : {}) };
}

function newEntry(fetched: FetchedManifest, origin: Origin): Entry {
  return {
    digest: fetched.digest,
    manifest: fetched.manifest,
    origin,
    attestationOf: undefined,
    timeNeededByParent: false,
  };
}

async function probeReferrers(reader: ManifestReader, digest: string): Promise<boolean> {
  // One call tells whether the API exists; the reader keeps the answer, so where the API exists
  // this digest's referrers are not asked for twice.
  const answer = await reader.referrers(digest);
  return answer.supported;
}

function kindOf(entry: Entry, tags: readonly string[]): ManifestKind {
  if (entry.attestationOf !== undefined) return 'artifact';
  if (tags.some((tag) => subjectOfTag(tag) !== undefined)) return 'artifact';
  return manifestKind(entry.manifest);
}

/** A manifest's own time: its annotation, else (for an image whose time is needed) its config's `created`. */
async function ownPushTime(
  entry: Entry,
  kind: ManifestKind,
  isTagged: boolean,
  reader: ManifestReader,
): Promise<PushTime> {
  const annotation = entry.manifest.annotations[CREATED_ANNOTATION];
  if (annotation !== undefined) {
    const ms = plausibleTimeMs(annotation);
    if (ms !== null) return { pushedAtMs: ms, timeSource: 'annotation' };
  }
  const { manifest } = entry;
  const needed = isTagged || entry.timeNeededByParent;
  if (manifest.form === 'image' && kind === 'image' && manifest.config && needed) {
    const created = await reader.createdOf(manifest.config);
    const ms = plausibleTimeMs(created);
    if (ms !== null) return { pushedAtMs: ms, timeSource: 'config' };
    return {
      pushedAtMs: null,
      timeSource: 'unknown',
      found: created === undefined ? 'config has no created' : `created ${created}`,
    };
  }
  return {
    pushedAtMs: null,
    timeSource: 'unknown',
    found: annotation !== undefined ? `created ${annotation}` : undefined,
  };
}

/** An index's time: its own annotation, else the newest of its platform children. */
function indexTime(entry: Entry, ownTimes: ReadonlyMap<string, PushTime>): PushTime {
  const own = ownTimes.get(entry.digest)!;
  if (own.pushedAtMs !== null || entry.manifest.form !== 'index') return own;
  const childTimes = entry.manifest.children
    .map((child) => ownTimes.get(child.digest)?.pushedAtMs ?? null)
    .filter((ms): ms is number => ms !== null);
  if (childTimes.length === 0) return { ...own, found: own.found ?? 'no child has a created time' };
  return { pushedAtMs: Math.max(...childTimes), timeSource: 'children' };
}

/** An image's blobs (config + layers) and their sum; an index owns no blobs and reports its children's unique total. */
function storageOf(entry: Entry, entries: ReadonlyMap<string, Entry>): { blobs: BlobRef[]; sizeBytes: number | null } {
  const { manifest } = entry;
  if (manifest.form === 'image') {
    const blobs = blobsOf(manifest);
    return { blobs, sizeBytes: blobs.reduce((sum, blob) => sum + blob.sizeBytes, 0) };
  }
  const unique = new Map<string, number>();
  for (const child of manifest.children) {
    const childManifest = entries.get(child.digest)?.manifest;
    if (!childManifest || childManifest.form !== 'image') return { blobs: [], sizeBytes: null };
    for (const blob of blobsOf(childManifest)) unique.set(blob.digest, blob.sizeBytes);
  }
  return { blobs: [], sizeBytes: [...unique.values()].reduce((sum, size) => sum + size, 0) };
}

/** Tags the listing named that answer 404: deleted since, or lost with their manifest (a registry restart). */
function vanishedTagsWarning(tags: readonly string[]): string {
  const sorted = [...tags].sort();
  const named = sorted.slice(0, MAX_TIME_EXAMPLES).join(', ');
  const more = sorted.length > MAX_TIME_EXAMPLES ? ` and ${sorted.length - MAX_TIME_EXAMPLES} more` : '';
  return (
    `${sorted.length} listed tag(s) answer 404 (${named}${more}): deleted since the tag list was read, or their ` +
    'manifest is gone from storage (a registry restarted on an emptied or different storage, or killed in the ' +
    'middle of deleting it); they were left out. If they should exist, push them again; to remove one, push any ' +
    'image under it and delete that image by digest.'
  );
}

/**
 * One line per repository: the planner already warns per image about the effect of an unknown
 * time; this says why the times are unknown and how to fix the builds.
 */
function timeWarnings(unknownTimes: readonly UnknownTime[]): string[] {
  if (unknownTimes.length === 0) return [];
  const examples = unknownTimes
    .slice(0, MAX_TIME_EXAMPLES)
    .map(({ tags, found }) => `${tags[0]}${tags.length > 1 ? ` (+${tags.length - 1} tags)` : ''}: ${found}`)
    .join('; ');
  const more = unknownTimes.length > MAX_TIME_EXAMPLES ? `; and ${unknownTimes.length - MAX_TIME_EXAMPLES} more` : '';
  return [
    `${unknownTimes.length} tagged image(s) have no usable push time (${examples}${more}). ` +
      'Times at or before 1970-01-02 are reproducible-build placeholders, treated as unknown. Set the ' +
      'org.opencontainers.image.created annotation (or a real SOURCE_DATE_EPOCH) when building.',
  ];
}
