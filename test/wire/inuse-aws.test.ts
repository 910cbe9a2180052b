import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsSource } from '../../lib/inuse/ecs.js';
import { lambdaSource } from '../../lib/inuse/lambda.js';
import type { ImageUse } from '../../lib/inuse/types.js';
import { FakeEcs } from '../support/fake-ecs.js';
import { FakeLambda } from '../support/fake-lambda.js';

const credentials = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' };
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const signal = () => new AbortController().signal;

function pairs(uses: readonly ImageUse[]): string[] {
  return uses.map((use) => `${use.user} -> ${use.reference}${use.resolvedDigest ? ` (${use.resolvedDigest})` : ''}`);
}

describe("the ECS usage source, against an ECS API held to botocore's model", () => {
  let fake: FakeEcs;
  beforeAll(async () => {
    fake = await FakeEcs.start();
    const v1 = fake.taskDefinition('api', 1, [{ name: 'api', image: `${ECR}/team/api:1.0` }]);
    const v2 = fake.taskDefinition('api', 2, [
      { name: 'api', image: `${ECR}/team/api:2.0` },
      { name: 'proxy', image: 'public.ecr.aws/nginx/nginx:1.27' },
    ]);
    // A rollout in progress: both the new (PRIMARY) and the old (ACTIVE) task definition run.
    fake.service('prod', 'api', [v2, v1]);
    // More services than one ListServices page (10) and one DescribeServices call (10).
    for (let n = 0; n < 12; n++) {
      fake.service('prod', `worker-${n}`, [
        fake.taskDefinition(`worker-${n}`, 1, [{ name: 'w', image: `${ECR}/w:${n}` }]),
      ]);
    }
    fake.task('prod', 'abc123', 'family:batch', [
      { name: 'batch', image: `${ECR}/team/batch:7`, imageDigest: digest('c') },
    ]);
    fake.cluster('staging');
  });
  afterAll(() => fake.close());

  it('reads the task definitions of every active deployment and the running tasks with their digests', async () => {
    const source = ecsSource(
      { kind: 'ecs', name: 'ecs-prod', region: 'eu-west-1', endpoint: fake.url },
      { client: { credentials } },
    );
    const uses = await source.read(signal());
    expect(pairs(uses)).toEqual(
      expect.arrayContaining([
        `ecs-prod: service prod/api -> ${ECR}/team/api:2.0`,
        'ecs-prod: service prod/api -> public.ecr.aws/nginx/nginx:1.27',
        `ecs-prod: service prod/api -> ${ECR}/team/api:1.0`,
        `ecs-prod: service prod/worker-11 -> ${ECR}/w:11`,
        `ecs-prod: task prod/abc123 (family:batch) -> ${ECR}/team/batch:7 (${digest('c')})`,
      ]),
    );
    expect(uses).toHaveLength(3 + 12 + 1);
    // ListClusters, 2 ListServices pages + 2 DescribeServices for prod, 14 task definitions, ListTasks,
    // DescribeTasks; staging: ListServices, ListTasks.
    expect(fake.requests.filter((op) => op === 'ListServices')).toHaveLength(3);
    expect(fake.requests.filter((op) => op === 'DescribeServices')).toHaveLength(2);
    expect(source.calls()).toBe(fake.requests.length);
    expect(fake.modelViolations).toEqual([]);
  });

  it('reads only the configured clusters', async () => {
    fake.requests.length = 0;
    const source = ecsSource(
      { kind: 'ecs', name: 'ecs-prod', region: 'eu-west-1', endpoint: fake.url, clusters: ['staging'] },
      { client: { credentials } },
    );
    expect(await source.read(signal())).toEqual([]);
    expect(fake.requests).toEqual(['ListServices', 'ListTasks']);
  });

  it("fails with IAM's words when a read is denied", async () => {
    fake.denied.add('DescribeTaskDefinition');
    try {
      const source = ecsSource(
        { kind: 'ecs', name: 'ecs-prod', region: 'eu-west-1', endpoint: fake.url },
        { client: { credentials } },
      );
      await expect(source.read(signal())).rejects.toThrow(
        /ecs:DescribeTaskDefinition; grant the read actions \(Terraform: in_use_ecs = true\)/,
      );
    } finally {
      fake.denied.clear();
    }
  });

  it('fails on a cluster that does not exist, rather than protect nothing there', async () => {
    const source = ecsSource(
      { kind: 'ecs', name: 'ecs-prod', region: 'eu-west-1', endpoint: fake.url, clusters: ['gone'] },
      { client: { credentials } },
    );
    await expect(source.read(signal())).rejects.toThrow(/Cluster not found/);
  });

  it("had botocore's ECS model to check against (python3-botocore)", () => {
    if (process.env.CI === 'true') expect(fake.modelChecked).toBe(true);
    expect(fake.modelViolations).toEqual([]);
  });
});

describe("the Lambda usage source, against a Lambda API held to botocore's model", () => {
  let fake: FakeLambda;
  beforeAll(async () => {
    fake = await FakeLambda.start();
    fake.function('resize', [
      { version: '$LATEST', packageType: 'Image', imageUri: `${ECR}/fn/resize:9`, resolvedDigest: digest('d') },
      // An alias can still route to version 3 and its older image.
      { version: '3', packageType: 'Image', imageUri: `${ECR}/fn/resize:3`, resolvedDigest: digest('e') },
    ]);
    fake.function('zip-only', [{ version: '$LATEST', packageType: 'Zip' }]);
    for (let n = 0; n < 55; n++) {
      fake.function(`many-${n}`, [{ version: '$LATEST', packageType: 'Image', imageUri: `${ECR}/fn/many:${n}` }]);
    }
  });
  afterAll(() => fake.close());

  it('reads every version of every container-image function, paging past 50, with resolved digests', async () => {
    const source = lambdaSource(
      { kind: 'lambda', name: 'fns', region: 'eu-west-1', endpoint: fake.url },
      { client: { credentials } },
    );
    const uses = await source.read(signal());
    expect(pairs(uses)).toEqual(
      expect.arrayContaining([
        `fns: function resize:$LATEST -> ${ECR}/fn/resize:9 (${digest('d')})`,
        `fns: function resize:3 -> ${ECR}/fn/resize:3 (${digest('e')})`,
        `fns: function many-54:$LATEST -> ${ECR}/fn/many:54`,
      ]),
    );
    expect(uses).toHaveLength(57);
    expect(fake.requests.filter((request) => /^GET \/2015-03-31\/functions\/?\?/.test(request))).toHaveLength(2);
    expect(fake.requests.some((request) => request.includes('zip-only'))).toBe(false);
    expect(fake.modelViolations).toEqual([]);
  });

  it("rides out a brief throttle with the SDK's retries, and fails on a lasting one", async () => {
    const source = lambdaSource(
      { kind: 'lambda', name: 'fns', region: 'eu-west-1', endpoint: fake.url },
      { client: { credentials, maxAttempts: 3 } },
    );
    fake.throttle = 1;
    expect(await source.read(signal())).toHaveLength(57);
    fake.throttle = 10;
    await expect(source.read(signal())).rejects.toThrow(/Rate exceeded/);
    fake.throttle = 0;
  });

  it("had botocore's Lambda model to check against (python3-botocore)", () => {
    if (process.env.CI === 'true') expect(fake.modelChecked).toBe(true);
    expect(fake.modelViolations).toEqual([]);
  });
});
