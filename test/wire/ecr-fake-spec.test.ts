/**
 * The fake ECR held to botocore's published ECR model (test/fixtures/ecr-model.json, pinned from
 * botocore 1.43.11 by scripts/extract-ecr-model.py; checked against Debian's python3-botocore where
 * installed): every answer the real SDK gets from the fake, successes and errors, must fit the
 * operation's output shape or one of its declared error shapes, and every request the SDK sends
 * must fit the input shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEcrClient } from '../../lib/providers/ecr/client.js';
import { contradictions, loadEcrModel, validateResponse, validateShape } from '../support/ecr-model.js';
import { digestOf, fakeEcrClientHooks, indexManifest, MEDIA, startFakeEcr, type FakeEcr } from '../support/fake-ecr.js';

/** Where Debian's python3-botocore (installed by .ci/run) keeps the ECR model. */
const DEBIAN_ECR_MODEL = '/usr/lib/python3/dist-packages/botocore/data/ecr/2015-09-21/service-2.json';
const model = loadEcrModel();

let fake: FakeEcr;
let client: ECRClient;

beforeEach(async () => {
  fake = await startFakeEcr();
  const hooks = fakeEcrClientHooks(fake, { maxAttempts: 1 });
  client = createEcrClient({
    region: fake.region,
    endpoint: fake.url,
    hooks,
    stats: { apiCalls: 0, retries: 0, throttled: 0 },
  });
});

afterEach(async () => {
  client.destroy();
  await fake.close();
});

/** The error name a rejected SDK call carries (`ImageNotFoundException`, …). */
async function errorName(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'no error',
    (error: unknown) => (error as { name: string }).name,
  );
}

/** A repository with images, an index and its children, a signature and archived images. */
function seed(): void {
  const [c1, c2] = [digestOf('c1'), digestOf('c2')];
  fake.addImage('app', { digest: c1, pushedAtMs: 1_700_000_000_000 });
  fake.addImage('app', { digest: c2, pushedAtMs: 1_700_000_000_000 });
  fake.addImage('app', {
    digest: digestOf('index'),
    tags: ['v2'],
    pushedAtMs: 1_700_000_100_000,
    manifestMediaType: MEDIA.ociIndex,
    manifest: indexManifest([c1, c2]),
  });
  fake.addImage('app', { digest: digestOf('v1'), tags: ['v1', 'old'], pushedAtMs: 1_690_000_000_000 });
  fake.addImage('app', {
    digest: digestOf('sig'),
    subject: digestOf('v1'),
    artifactMediaType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    lastPulledAtMs: 1_700_000_200_000,
  });
  fake.addImage('app', {
    digest: digestOf('archived'),
    tags: ['a1'],
    status: 'ARCHIVED',
    archivedAtMs: 1_710_000_000_000,
  });
  fake.addImage('app', { digest: digestOf('restoring'), status: 'ACTIVATING' });
  fake.addRepository('empty');
}

describe('the fake ECR against the ECR service model', () => {
  it('answers every operation, successes and errors, in the shapes the model declares', async () => {
    seed();
    const registryId = fake.registryId;
    const repositoryName = 'app';
    const send = (call: Promise<unknown>) => call.catch(() => undefined);

    await send(client.send(new DescribeRepositoriesCommand({ registryId, maxResults: 1 })));
    await send(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['app'] })));
    await send(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['app', 'missing'] })));
    await send(client.send(new DescribeRepositoriesCommand({ registryId: '999999999999' })));
    for (const imageStatus of [undefined, 'ANY', 'ARCHIVED', 'ACTIVATING'] as const) {
      await send(
        client.send(
          new DescribeImagesCommand({ registryId, repositoryName, filter: { tagStatus: 'ANY', imageStatus } }),
        ),
      );
    }
    await send(client.send(new DescribeImagesCommand({ repositoryName, maxResults: 2 })));
    await send(client.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }] })));
    await send(
      client.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: digestOf('gone') }] })),
    );
    await send(client.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: 'sha256:short' }] })));
    await send(client.send(new DescribeImagesCommand({ repositoryName: 'missing' })));
    await send(
      client.send(
        new BatchGetImageCommand({
          repositoryName,
          imageIds: [
            { imageDigest: digestOf('index') },
            { imageDigest: digestOf('v1') },
            { imageDigest: digestOf('archived') },
            { imageDigest: digestOf('gone') },
            { imageDigest: 'sha256:short' },
            { imageTag: 'v1', imageDigest: digestOf('index') },
          ],
          acceptedMediaTypes: [MEDIA.ociIndex],
        }),
      ),
    );
    fake.failDelete(digestOf('v1'), 'ImageReferencedByManifestList', { times: 1 });
    await send(
      client.send(
        new BatchDeleteImageCommand({
          repositoryName,
          imageIds: [
            { imageDigest: digestOf('c1') },
            { imageDigest: digestOf('v1') },
            { imageTag: 'old' },
            { imageDigest: digestOf('sig') },
            { imageDigest: 'sha256:short' },
            { imageDigest: digestOf('gone') },
          ],
        }),
      ),
    );
    fake.inject('DescribeImages', { status: 400, type: 'ThrottlingException' });
    await send(client.send(new DescribeImagesCommand({ repositoryName })));

    const problems = fake.responses.flatMap((response) => validateResponse(model, response));
    // The last request breaks ImageTag's bounds on purpose: ECR refuses it whole.
    const requestProblems = fake.requests
      .slice(0, -1)
      .flatMap((request) =>
        validateShape(model, model.operations[request.operation]!.input, request.body, `${request.operation} request`),
      );

    await send(client.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'x'.repeat(301) }] })));

    expect(fake.responses).toHaveLength(17);
    expect(problems).toEqual([]);
    expect(requestProblems).toEqual([]);
  });

  it('lists only ACTIVE images unless filter.imageStatus asks for others, and says which each is', async () => {
    seed();

    const active = await client.send(new DescribeImagesCommand({ repositoryName: 'app' }));
    const archived = await client.send(
      new DescribeImagesCommand({ repositoryName: 'app', filter: { imageStatus: 'ARCHIVED' } }),
    );
    const any = await client.send(new DescribeImagesCommand({ repositoryName: 'app', filter: { imageStatus: 'ANY' } }));

    expect(active.imageDetails?.map((d) => d.imageStatus)).toEqual(Array(5).fill('ACTIVE'));
    expect(archived.imageDetails?.map((d) => d.imageDigest)).toEqual([digestOf('archived')]);
    expect(archived.imageDetails?.[0]?.lastArchivedAt).toEqual(new Date(1_710_000_000_000));
    expect(any.imageDetails).toHaveLength(7);
  });

  it('describes only the images asked for by imageIds, and fails on one it does not have', async () => {
    seed();

    const asked = await client.send(
      new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v2' }, { imageTag: 'v1' }] }),
    );
    const missing = await errorName(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: digestOf('gone') }] })),
    );
    const malformed = await errorName(
      client.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: 'sha256:nothex' }] })),
    );

    expect(asked.imageDetails?.map((d) => d.imageDigest)).toEqual([digestOf('index'), digestOf('v1')]);
    expect(missing).toBe('ImageNotFoundException');
    expect(malformed).toBe('InvalidParameterException');
  });

  it('describes only the repositories named by repositoryNames, and fails on one it does not have', async () => {
    seed();

    const named = await client.send(new DescribeRepositoriesCommand({ repositoryNames: ['empty'] }));
    const missing = await errorName(
      client.send(new DescribeRepositoriesCommand({ repositoryNames: ['empty', 'missing'] })),
    );

    expect(named.repositories?.map((r) => r.repositoryName)).toEqual(['empty']);
    expect(missing).toBe('RepositoryNotFoundException');
  });

  it('answers with codes ECR has: InvalidImageDigest, ImageNotFound, AccessDeniedException', async () => {
    seed();

    const deleted = await client.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageDigest: 'sha256:nothex' }] }),
    );
    const got = await client.send(
      new BatchGetImageCommand({
        repositoryName: 'app',
        imageIds: [{ imageDigest: digestOf('v1') }, { imageDigest: digestOf('archived') }],
        acceptedMediaTypes: [MEDIA.ociIndex],
      }),
    );
    const foreign = await errorName(client.send(new DescribeRepositoriesCommand({ registryId: '999999999999' })));

    expect(deleted.failures?.map((f) => f.failureCode)).toEqual(['InvalidImageDigest']);
    expect(got.failures?.map((f) => f.failureCode)).toEqual(['ImageNotFound', 'ImageInaccessible']);
    expect(foreign).toBe('AccessDeniedException');
  });

  it('refuses a request outside the model bounds whole (InvalidParameterException), not per image', async () => {
    seed();

    const tooLong = await errorName(
      client.send(new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'x'.repeat(301) }] })),
    );

    expect(tooLong).toBe('InvalidParameterException');
    expect(fake.images('app')).toHaveLength(7);
  });
});

describe('the ECR model validator', () => {
  it('finds missing required members, unknown members, bad enums, ISO timestamps and overlong lists', () => {
    const body = {
      imageDetails: [
        { imageDigest: 'sha256:x', imageStatus: 'FROZEN', imagePushedAt: '2026-01-01T00:00:00Z', nope: 1 },
      ],
    };
    const failures = {
      images: [],
      failures: Array.from({ length: 2 }, () => ({ failureCode: 'UnsupportedImageType' })),
    };

    const problems = [
      ...validateResponse(model, { operation: 'DescribeImages', status: 200, body }),
      ...validateResponse(model, { operation: 'BatchGetImage', status: 200, body: failures }),
      ...validateResponse(model, {
        operation: 'DescribeImages',
        status: 400,
        body: { __type: 'RegistryNotFoundException' },
      }),
      ...validateShape(model, 'BatchDeleteImageRequest', { imageIds: Array(101).fill({ imageTag: 'a' }) }),
    ];

    expect(problems).toEqual([
      expect.stringContaining("'FROZEN' is not one of ACTIVE, ARCHIVED, ACTIVATING"),
      expect.stringContaining('imagePushedAt: expected epoch seconds'),
      expect.stringContaining('unknown member nope'),
      expect.stringContaining("'UnsupportedImageType' is not one of"),
      expect.stringContaining("'UnsupportedImageType' is not one of"),
      expect.stringContaining('error RegistryNotFoundException is not declared'),
      expect.stringContaining('missing repositoryName'),
      expect.stringContaining('101 items, more than 100'),
    ]);
  });

  it("agrees with Debian's python3-botocore ECR model where that is installed (CI installs it)", () => {
    // Pinned from a newer botocore: every shape the older model has must agree, grown only.
    const installed = existsSync(DEBIAN_ECR_MODEL);
    if (!installed && process.env.CI === 'true') {
      throw new Error(`${DEBIAN_ECR_MODEL} is missing: .ci/run must install python3-botocore`);
    }
    const debian = installed
      ? (JSON.parse(readFileSync(DEBIAN_ECR_MODEL, 'utf8')) as Parameters<typeof contradictions>[1])
      : { shapes: {} };

    expect(contradictions(model, debian)).toEqual([]);
    expect(model.shapes['ImageStatusFilter']?.enum).toEqual(['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY']);
  });
});
