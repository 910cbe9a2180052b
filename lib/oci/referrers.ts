/**
 * Referrer detection by tag. A manifest names its subject in OCI 1.1's `subject` field (parsed in
 * manifest.ts); before that, and on registries without the referrers API, the relation lives in the tag.
 *
 * Decision (docs/design.md, "Referrers"): a tag `sha256-<64 hex>` names the manifest `sha256:<hex>`
 * as its subject in all four forms:
 * - `.sig`, `.att`, `.sbom`: cosign's signatures, attestations and SBOMs;
 * - bare `sha256-<hex>`: the OCI 1.1 referrers tag schema (distribution-spec, "Referrers Tag Schema"),
 *   the fallback where a registry has no referrers API: an index listing the referrers of that subject.
 *   It exists only for that subject, so it is kept and deleted with it, like the cosign forms.
 * Any other suffix, upper-case hex or a hex of another length is an ordinary tag.
 */

/** `sha256-<hex>` with an optional `.sig`, `.att` or `.sbom`. */
const REFERRER_TAG = /^sha256-([a-f0-9]{64})(?:\.(?:sig|att|sbom))?$/;

/** The subject digest (`sha256:<hex>`) a referrer tag names, or undefined for an ordinary tag. */
export function subjectOfTag(tag: string): string | undefined {
  const match = REFERRER_TAG.exec(tag);
  return match ? `sha256:${match[1]}` : undefined;
}

/** The subject the first referrer tag among `tags` names, or null when none is one. */
export function subjectOfTags(tags: readonly string[]): string | null {
  for (const tag of tags) {
    const subject = subjectOfTag(tag);
    if (subject !== undefined) return subject;
  }
  return null;
}
