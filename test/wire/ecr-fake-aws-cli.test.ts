/**
 * The fake ECR driven by an independent client: the `aws` CLI (Debian's awscli, botocore's own
 * parser and paginator) pointed at it with `--endpoint-url`. What the CLI prints is what botocore
 * made of the fake's answers, so a shape only our SDK tolerates shows up here. .ci/run installs
 * awscli; locally, without it, the test fails with the install command rather than skipping.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf, indexManifest, MEDIA, startFakeEcr, type FakeEcr } from '../support/fake-ecr.js';

const run = promisify(execFile);
/** Debian's awscli (what .ci/run installs), else whatever `aws` is on PATH. */
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

let fake: FakeEcr;

beforeEach(async () => {
  fake = await startFakeEcr();
});

afterEach(async () => {
  await fake.close();
});

/** Runs `aws ecr <args>` against the fake and parses its JSON output. */
async function awsEcr(args: readonly string[]): Promise<Record<string, unknown>> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
    AWS_DEFAULT_REGION: fake.region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  try {
    const { stdout } = await run(AWS, ['ecr', ...args, '--endpoint-url', fake.url, '--output', 'json'], {
      env,
      timeout: 60_000,
    });
    return JSON.parse(stdout || '{}') as Record<string, unknown>;
  } catch (error) {
    const failure = error as { code?: unknown; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('the aws CLI is not installed: apt-get install -y awscli');
    throw new Error(`aws ecr ${args.join(' ')} failed: ${failure.stderr ?? String(error)}`);
  }
}

// The CLI takes seconds to start (Python, botocore's models): slack for a loaded machine.
describe('the fake ECR driven by the aws CLI', { timeout: 240_000 }, () => {
  it('pages repositories and images the way botocore paginates them', async () => {
    for (let i = 0; i < 5; i++) fake.addRepository(`team/r${i}`);
    for (let i = 0; i < 5; i++) {
      fake.addImage('team/r0', { digest: digestOf(`i${i}`), tags: [`t${i}`], pushedAtMs: 1_700_000_000_000 + i });
    }

    const repositories = await awsEcr(['describe-repositories', '--page-size', '2']);
    const images = await awsEcr(['describe-images', '--repository-name', 'team/r0', '--page-size', '2']);

    expect((repositories.repositories as { repositoryName: string }[]).map((r) => r.repositoryName)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `team/r${i}`),
    );
    const details = images.imageDetails as { imageTags: string[]; imagePushedAt: string; imageStatus: string }[];
    expect(details.map((d) => d.imageTags[0])).toEqual(['t0', 't1', 't2', 't3', 't4']);
    // Epoch seconds on the wire, a date after botocore's parsing.
    expect(new Date(details[0]!.imagePushedAt).getTime()).toBe(1_700_000_000_000);
    expect(fake.count('DescribeImages')).toBe(3);
  });

  it('describes by id, reads an index, deletes by tag and digest, with failures botocore parses', async () => {
    const [c1, c2] = [digestOf('c1'), digestOf('c2')];
    fake.addImage('app', { digest: c1 });
    fake.addImage('app', { digest: c2 });
    fake.addImage('app', {
      digest: digestOf('index'),
      tags: ['v2'],
      manifestMediaType: MEDIA.ociIndex,
      manifest: indexManifest([c1, c2]),
    });
    fake.addImage('app', { digest: digestOf('v1'), tags: ['v1'] });

    const described = await awsEcr(['describe-images', '--repository-name', 'app', '--image-ids', 'imageTag=v1']);
    const got = await awsEcr([
      'batch-get-image',
      '--repository-name',
      'app',
      '--image-ids',
      `imageDigest=${digestOf('index')}`,
      '--accepted-media-types',
      MEDIA.ociIndex,
    ]);
    const deleted = await awsEcr([
      'batch-delete-image',
      '--repository-name',
      'app',
      '--image-ids',
      'imageTag=v1',
      `imageDigest=${c1}`,
    ]);

    expect((described.imageDetails as { imageDigest: string }[]).map((d) => d.imageDigest)).toEqual([digestOf('v1')]);
    const manifest = JSON.parse((got.images as { imageManifest: string }[])[0]!.imageManifest) as {
      manifests: { digest: string }[];
    };
    expect(manifest.manifests.map((m) => m.digest)).toEqual([c1, c2]);
    expect(deleted.imageIds).toEqual([{ imageDigest: digestOf('v1'), imageTag: 'v1' }]);
    expect(deleted.failures).toEqual([
      {
        imageId: { imageDigest: c1 },
        failureCode: 'ImageReferencedByManifestList',
        failureReason: `Requested image referenced by manifest list: [${c1}]`,
      },
    ]);
  });

  it('surfaces the errors ECR declares by name: RepositoryNotFoundException, ImageNotFoundException', async () => {
    fake.addRepository('app');

    const missingRepository = await awsEcr(['describe-images', '--repository-name', 'nope']).catch(
      (error: Error) => error.message,
    );
    const missingImage = await awsEcr([
      'describe-images',
      '--repository-name',
      'app',
      '--image-ids',
      `imageDigest=${digestOf('gone')}`,
    ]).catch((error: Error) => error.message);

    expect(missingRepository).toMatch(/RepositoryNotFoundException/);
    expect(missingImage).toMatch(/ImageNotFoundException/);
  });
});
