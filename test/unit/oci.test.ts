import { describe, expect, it } from 'vitest';
import { RegistryProtocolError } from '../../lib/errors.js';
import {
  artifactTypeOf,
  blobsOf,
  DOCKER_IMAGE_CONFIG,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  INDEX_MEDIA_TYPES,
  MANIFEST_ACCEPT,
  manifestKind,
  OCI_ARTIFACT_MANIFEST,
  OCI_IMAGE_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  parseManifest,
  parseManifestJson,
  subjectOfTag,
  subjectOfTags,
  verifyDigest,
  digestOf,
} from '../../lib/oci/index.js';

const HEX = 'a'.repeat(64);
const SUBJECT = `sha256:${HEX}`;
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const COSIGN_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';

function descriptor(mediaType: string, fill: string, size = 10) {
  return { mediaType, digest: `sha256:${fill.repeat(64)}`, size };
}

function image(configType = OCI_IMAGE_CONFIG, layerType = LAYER, extra: Record<string, unknown> = {}) {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(configType, 'c'),
    layers: [descriptor(layerType, 'd', 500)],
    ...extra,
  };
}

describe('media types', () => {
  it.each([
    [OCI_INDEX, true],
    [DOCKER_MANIFEST_LIST, true],
    [OCI_MANIFEST, false],
    [DOCKER_MANIFEST, false],
    [OCI_ARTIFACT_MANIFEST, false],
  ])('%s lists children: %s', (mediaType, isIndex) => {
    expect(INDEX_MEDIA_TYPES.has(mediaType)).toBe(isIndex);
  });

  it('asks for every manifest type regprune reads, so the registry never converts one', () => {
    const accepted = MANIFEST_ACCEPT.split(', ');

    expect(accepted).toEqual(
      expect.arrayContaining([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_ARTIFACT_MANIFEST]),
    );
  });
});

describe('parsing manifests', () => {
  it.each([
    ['an OCI image', image(), 'image', OCI_MANIFEST],
    ['a Docker image', { ...image(DOCKER_IMAGE_CONFIG), mediaType: DOCKER_MANIFEST }, 'image', DOCKER_MANIFEST],
    [
      'an OCI index',
      { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(OCI_MANIFEST, 'e')] },
      'index',
      OCI_INDEX,
    ],
    ['an index without a media type', { schemaVersion: 2, manifests: [] }, 'index', OCI_INDEX],
    [
      'an image without a media type',
      { schemaVersion: 2, config: descriptor(OCI_IMAGE_CONFIG, 'c'), layers: [] },
      'image',
      OCI_MANIFEST,
    ],
    [
      'a 1.1-rc artifact manifest',
      { mediaType: OCI_ARTIFACT_MANIFEST, blobs: [descriptor(LAYER, 'd')] },
      'image',
      OCI_ARTIFACT_MANIFEST,
    ],
  ])('reads %s', (_name, body, form, mediaType) => {
    const parsed = parseManifest(JSON.stringify(body), null, 'test');

    expect(parsed.form).toBe(form);
    expect(parsed.mediaType).toBe(mediaType);
  });

  it('takes the media type from the Content-Type header when the body names none', () => {
    const body = { schemaVersion: 2, config: descriptor(DOCKER_IMAGE_CONFIG, 'c'), layers: [] };

    const parsed = parseManifest(Buffer.from(JSON.stringify(body)), `${DOCKER_MANIFEST}; charset=utf-8`, 'test');

    expect(parsed.mediaType).toBe(DOCKER_MANIFEST);
  });

  it('reads the OCI subject of a referrer', () => {
    const parsed = parseManifestJson(
      image(OCI_IMAGE_CONFIG, LAYER, { subject: descriptor(OCI_MANIFEST, 'a') }),
      null,
      'x',
    );

    expect(parsed.subject).toBe(SUBJECT);
  });

  it.each([
    ['text that is not JSON', 'not json', /the manifest is not JSON/],
    ['a Docker schema 1 manifest', JSON.stringify({ schemaVersion: 1, fsLayers: [] }), /schema 1 manifests/],
    ['a descriptor without a size', JSON.stringify({ config: { digest: `sha256:${HEX}` } }), /config\.size/],
    ['a digest that is not sha256:<hex>', JSON.stringify({ config: { digest: 'md5:00', size: 1 } }), /sha256:<hex>/],
    ['an unknown manifest type', JSON.stringify({ mediaType: 'text/plain' }), /unsupported manifest media type/],
  ])('refuses %s with a RegistryProtocolError naming where', (_name, body, message) => {
    const parse = () => parseManifest(body, null, 'repo@sha256:x');

    expect(parse).toThrow(RegistryProtocolError);
    expect(parse).toThrow(message);
    expect(parse).toThrow(/^repo@sha256:x: /);
  });

  it('refuses content whose hash is not the digest the registry named', () => {
    const body = Buffer.from('{}');

    expect(() => verifyDigest(body, digestOf(body), 'x')).not.toThrow();
    expect(() => verifyDigest(body, SUBJECT, 'x')).toThrow(/content hashes to/);
  });
});

describe('the blobs of a manifest', () => {
  it('are the config then the layers, with their sizes', () => {
    const parsed = parseManifestJson(image(), null, 'x');

    expect(blobsOf(parsed)).toEqual([
      { digest: `sha256:${'c'.repeat(64)}`, sizeBytes: 10 },
      { digest: `sha256:${'d'.repeat(64)}`, sizeBytes: 500 },
    ]);
  });

  it('include the blobs of a 1.1-rc artifact manifest', () => {
    const parsed = parseManifestJson(
      { mediaType: OCI_ARTIFACT_MANIFEST, blobs: [descriptor(LAYER, 'd', 7)] },
      null,
      'x',
    );

    expect(blobsOf(parsed)).toEqual([{ digest: `sha256:${'d'.repeat(64)}`, sizeBytes: 7 }]);
  });

  it('are none for an index: its children carry the bytes', () => {
    const parsed = parseManifestJson(
      { mediaType: OCI_INDEX, manifests: [descriptor(OCI_MANIFEST, 'e', 900)] },
      null,
      'x',
    );

    expect(blobsOf(parsed)).toEqual([]);
  });
});

describe('what a manifest is', () => {
  it.each([
    ['a runnable OCI image', image(), 'image', undefined],
    ['a runnable Docker image', image(DOCKER_IMAGE_CONFIG), 'image', undefined],
    [
      'a Helm chart (its own config type)',
      image('application/vnd.cncf.helm.config.v1+json'),
      'artifact',
      'application/vnd.cncf.helm.config.v1+json',
    ],
    ['a cosign signature (cosign layer)', image(OCI_IMAGE_CONFIG, COSIGN_LAYER), 'artifact', COSIGN_LAYER],
    [
      'an SBOM with an artifactType',
      image(OCI_IMAGE_CONFIG, LAYER, { artifactType: 'application/spdx+json' }),
      'artifact',
      'application/spdx+json',
    ],
    ['an index', { mediaType: OCI_INDEX, manifests: [] }, 'index', undefined],
    [
      'an index with a subject',
      { mediaType: OCI_INDEX, manifests: [], subject: descriptor(OCI_MANIFEST, 'a') },
      'artifact',
      undefined,
    ],
  ])('%s is an %s', (_name, body, kind, artifactType) => {
    const parsed = parseManifestJson(body, null, 'x');

    expect(manifestKind(parsed)).toBe(kind);
    expect(artifactTypeOf(parsed, manifestKind(parsed))).toBe(artifactType);
  });
});

describe('referrer tags (docs/design.md, "Referrers")', () => {
  it.each([
    [`sha256-${HEX}.sig`, SUBJECT],
    [`sha256-${HEX}.att`, SUBJECT],
    [`sha256-${HEX}.sbom`, SUBJECT],
    // The OCI 1.1 referrers tag schema: an index of the subject's referrers, kept and deleted with it.
    [`sha256-${HEX}`, SUBJECT],
    [`sha256-${HEX}.txt`, undefined],
    [`sha256-${HEX}.sig.old`, undefined],
    [`sha256-${HEX}sig`, undefined],
    [`sha256-${'a'.repeat(63)}.sig`, undefined],
    [`sha256-${'a'.repeat(65)}`, undefined],
    [`sha256-${'A'.repeat(64)}.sig`, undefined],
    [`sha512-${HEX}.sig`, undefined],
    [`v1-sha256-${HEX}.sig`, undefined],
    ['latest', undefined],
  ])('%s names the subject %s', (tag, subject) => {
    expect(subjectOfTag(tag)).toBe(subject);
  });

  it('takes the subject of the first referrer tag among several, and none from ordinary tags', () => {
    const other = `sha256:${'b'.repeat(64)}`;

    expect(subjectOfTags(['latest', `sha256-${'b'.repeat(64)}.sig`, `sha256-${HEX}.att`])).toBe(other);
    expect(subjectOfTags(['latest', 'v1.2.3'])).toBeNull();
  });
});
