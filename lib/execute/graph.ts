/** Who references whom in one repository's listing: index → children, referrer → subject. */
import type { Image } from '../model.js';

export interface ReferenceGraph {
  /** Platform manifests an index lists. */
  childrenOf(digest: string): readonly string[];
  /** The manifest a referrer (signature, SBOM) refers to, if listed. */
  subjectOf(digest: string): string | null;
  /** Indexes that list this manifest. */
  parentsOf(digest: string): readonly string[];
  /** Referrers whose subject is this manifest. */
  referrersOf(digest: string): readonly string[];
}

function append(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The reference graph of a listing. */
export function referenceGraph(images: readonly Image[]): ReferenceGraph {
  const children = new Map<string, readonly string[]>();
  const subjects = new Map<string, string>();
  const parents = new Map<string, string[]>();
  const referrers = new Map<string, string[]>();
  for (const image of images) {
    children.set(image.digest, image.children);
    for (const child of image.children) append(parents, child, image.digest);
    if (image.subject !== null) {
      subjects.set(image.digest, image.subject);
      append(referrers, image.subject, image.digest);
    }
  }
  return {
    childrenOf: (digest) => children.get(digest) ?? [],
    subjectOf: (digest) => subjects.get(digest) ?? null,
    parentsOf: (digest) => parents.get(digest) ?? [],
    referrersOf: (digest) => referrers.get(digest) ?? [],
  };
}
