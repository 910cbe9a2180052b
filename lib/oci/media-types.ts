/** Media types regprune reads from an OCI Distribution registry (OCI image-spec 1.1, Docker v2 schema 2). */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** OCI 1.1-rc artifact manifest: dropped from the final spec, but some registries still hold them. */
export const OCI_ARTIFACT_MANIFEST = 'application/vnd.oci.artifact.manifest.v1+json';

export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_IMAGE_CONFIG = 'application/vnd.docker.container.image.v1+json';

/**
 * Sent on every manifest request: without all of them a registry may convert the manifest (changing its digest) or
 * refuse (deckschrubber#43).
 */
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_ARTIFACT_MANIFEST,
].join(', ');

export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
export const IMAGE_CONFIG_MEDIA_TYPES: ReadonlySet<string> = new Set([OCI_IMAGE_CONFIG, DOCKER_IMAGE_CONFIG]);

/** Layer media types cosign uses for signatures, attestations and SBOMs. */
export const COSIGN_LAYER_PREFIX = 'application/vnd.dev.cosign';

/** OCI annotation holding the image's creation time (RFC 3339). */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** buildx marks its attestation manifests inside an index with these annotations. */
export const DOCKER_REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';
export const DOCKER_REFERENCE_DIGEST_ANNOTATION = 'vnd.docker.reference.digest';
