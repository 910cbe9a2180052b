/**
 * The Lambda handlers as plain functions, with a minimal context, against the wire-level fake ECR
 * (reached through the config's apiEndpoint, with static credentials from the environment). The
 * state store (run lock, history) is a local directory through REGPRUNE_STATE, as stateStoreFromEnv
 * allows; on Lambda it is the S3 bucket (test/unit/state-contract.test.ts runs that backend).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { functionUrlPrune as httpHandler } from '../../functions/aws/http.js';
import { handler as mainHandler } from '../../functions/aws/main.js';
import type { LambdaContext } from '../../functions/aws/run.js';
import { scheduledPrune as scheduledHandler } from '../../functions/aws/scheduled.js';
import { ConfigError, UsageError } from '../../lib/errors.js';
import { StateHistoryStore } from '../../lib/history/state.js';
import { lockKeyFor } from '../../lib/lock/key.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { LocalStateStore } from '../../lib/state/local.js';
import type { Report } from '../../lib/report/types.js';
import { DAY_MS } from '../support/builders.js';
import { digestOf, startFakeEcr, type FakeEcr } from '../support/fake-ecr.js';

const ENV_KEYS = [
  'REGPRUNE_CONFIG',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'LAMBDA_TASK_ROOT',
  'AWS_ENDPOINT_URL_ECR',
  'REGPRUNE_STATE',
  'REGPRUNE_STATE_BUCKET',
] as const;
const savedEnv = new Map<string, string | undefined>();

let fake: FakeEcr;
let stateDir: string;
let stdout: MockInstance<typeof process.stdout.write>;
let stderr: MockInstance<typeof process.stderr.write>;

function config(options: { dryRun?: boolean } = {}): string {
  return JSON.stringify({
    version: 1,
    dryRun: options.dryRun ?? false,
    defaults: { keep: 2, minAge: '0s', pinned: ['latest'] },
    registries: [
      {
        name: 'aws',
        provider: 'ecr',
        endpoint: fake.registryHost,
        apiEndpoint: fake.url,
        repositories: [{ match: 'team-a/*' }, { match: 'team-b/*' }],
      },
    ],
  });
}

function seed(repository: string, count: number): void {
  const pushedAtMs = Date.now() - 30 * DAY_MS;
  for (let i = 0; i < count; i++) {
    fake.addImage(repository, {
      digest: digestOf(`${repository}-${i}`),
      tags: [`b${i}`],
      pushedAtMs: pushedAtMs + i * 60_000,
    });
  }
}

function context(remainingMs: () => number = () => 600_000): LambdaContext {
  return { getRemainingTimeInMillis: remainingMs, awsRequestId: 'test-request' };
}

/** `requestContext.authorizer` of a function URL with AWS_IAM auth, as in the Lambda developer guide. */
const IAM_AUTHORIZER = {
  iam: {
    accessKey: 'AKIAIOSFODNN7EXAMPLE',
    accountId: '111122223333',
    callerId: 'AROA3XFRBF535PLBIFPI4:ci-session',
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: 'arn:aws:sts::111122223333:assumed-role/deployer/ci-session',
    userId: 'AROA3XFRBF535PLBIFPI4:ci-session',
  },
};

function urlEvent(
  body: string | undefined,
  options: { method?: string; base64?: boolean; authorizer?: Record<string, unknown> } = {},
) {
  return {
    version: '2.0',
    rawPath: '/',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      http: { method: options.method ?? 'POST', path: '/' },
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    },
    ...(body !== undefined ? { body: options.base64 ? Buffer.from(body).toString('base64') : body } : {}),
    isBase64Encoded: options.base64 ?? false,
  };
}

/** The one structured run line the run logged (stderr). */
function runLine(): Record<string, unknown> {
  const lines = stderr.mock.calls
    .flatMap(([chunk]) => String(chunk).split('\n'))
    .filter((line) => line.includes('"event":"regprune.run"'));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!.slice(lines[0]!.indexOf('{'))) as Record<string, unknown>;
}

function emfMetrics(): Record<string, unknown>[] {
  return stdout.mock.calls
    .flatMap(([chunk]) => String(chunk).split('\n'))
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(() => {
  for (const key of ENV_KEYS) savedEnv.set(key, process.env[key]);
});

afterAll(() => {
  for (const [key, value] of savedEnv) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

beforeEach(async () => {
  fake = await startFakeEcr();
  for (const key of ENV_KEYS) delete process.env[key];
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-tests';
  stateDir = await mkdtemp(join(tmpdir(), 'regprune-aws-state-'));
  process.env.REGPRUNE_STATE = stateDir;
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(async () => {
  stdout.mockRestore();
  stderr.mockRestore();
  await fake.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** Another run's lease on the fake ECR's registry, as a CLI sharing the state bucket would take it. */
function otherRun() {
  const key = lockKeyFor({ name: 'other-name', provider: 'ecr', endpoint: fake.registryHost, repositories: [] });
  return new StateLeaseLock({ store: new LocalStateStore(stateDir), renewMs: 0, owner: 'laptop:4242:cli' }).acquire(
    key,
  );
}

describe('scheduled handler (EventBridge Scheduler)', () => {
  it('prunes every configured repository and writes EMF metrics', async () => {
    seed('team-a/api', 5);
    seed('team-b/web', 3);
    process.env.REGPRUNE_CONFIG = config();

    const result = await scheduledHandler({}, context());

    expect(result).toMatchObject({ dryRun: false, complete: true, totals: { deleted: 4, failed: 0 } });
    expect(fake.images('team-a/api').flatMap((i) => i.tags)).toEqual(['b3', 'b4']);
    expect(fake.images('team-b/web').flatMap((i) => i.tags)).toEqual(['b1', 'b2']);
    const perRepository = emfMetrics().filter((blob) => blob.repository === 'team-a/api');
    expect(perRepository).toEqual([
      expect.objectContaining({ registry: 'aws', ImagesBefore: 5, ImagesDeleted: 3, ImagesKept: 2 }),
    ]);
    expect(emfMetrics().find((blob) => 'ApiCalls' in blob)).toMatchObject({ registry: 'aws', ApiCalls: fake.count() });
  });

  it('records EventBridge Scheduler as the caller of a scheduled run', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config();

    await scheduledHandler({}, context());

    expect(runLine()).toMatchObject({
      trigger: 'schedule',
      caller: { kind: 'schedule', schedule: 'EventBridge Scheduler' },
    });
  });

  it('records the rule ARN of an EventBridge rule as the caller', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config();
    const rule = 'arn:aws:events:eu-west-1:111122223333:rule/regprune-nightly';

    await scheduledHandler(
      { source: 'aws.events', 'detail-type': 'Scheduled Event', resources: [rule], detail: {} },
      context(),
    );

    expect(runLine()).toMatchObject({ caller: { kind: 'schedule', schedule: rule } });
  });

  it('lets the schedule input narrow the run to some repositories', async () => {
    seed('team-a/api', 4);
    seed('team-b/web', 4);
    process.env.REGPRUNE_CONFIG = config();

    await scheduledHandler({ repository: 'team-b/*' }, context());

    expect(fake.images('team-a/api')).toHaveLength(4);
    expect(fake.images('team-b/web')).toHaveLength(2);
  });

  it('reads the input of an EventBridge rule from its Scheduled Event envelope', async () => {
    seed('team-a/api', 4);
    process.env.REGPRUNE_CONFIG = config();

    const result = await scheduledHandler(
      { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: { dryRun: true } },
      context(),
    );

    expect(result).toMatchObject({ dryRun: true, totals: { deleted: 2 } });
    expect(fake.images('team-a/api')).toHaveLength(4);
    expect(fake.count('BatchDeleteImage')).toBe(0);
  });

  it('refuses an input naming an unconfigured registry before calling ECR', async () => {
    process.env.REGPRUNE_CONFIG = config();

    const error = await scheduledHandler({ registry: 'elsewhere' }, context()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/registry "elsewhere" is not configured/);
    expect(fake.count()).toBe(0);
  });

  it('refuses an invalid config before calling ECR', async () => {
    process.env.REGPRUNE_CONFIG =
      '{"version": 1, "registries": [{"name": "aws", "provider": "ecr", "endpoint": "not-a-host", "repositories": ' +
      '[]}]}';

    const error = await scheduledHandler({}, context()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/registries\[0\]\.endpoint/);
    expect(fake.count()).toBe(0);
  });

  it('stops starting deletions when the invocation runs low on time, and the next run converges', async () => {
    seed('team-a/api', 252);
    process.env.REGPRUNE_CONFIG = config();
    const lowAfterFirstBatch = () => (fake.count('BatchDeleteImage') >= 1 ? 5_000 : 600_000);

    const first = await scheduledHandler({}, context(lowAfterFirstBatch));
    const second = await scheduledHandler({}, context());

    expect(first).toMatchObject({ complete: false, totals: { deleted: 100, pending: 150, failed: 0 } });
    expect(second).toMatchObject({ complete: true, totals: { deleted: 150, pending: 0 } });
    expect(fake.images('team-a/api').flatMap((i) => i.tags)).toEqual(['b250', 'b251']);
  });

  it('fails the invocation, after writing metrics, when a whole registry could not be pruned', async () => {
    fake.addRepository('team-a/api');
    fake.inject('DescribeRepositories', { status: 400, type: 'AccessDeniedException', message: 'not authorized' });
    process.env.REGPRUNE_CONFIG = config();

    const error = await scheduledHandler({}, context()).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(/aws: .*ecr:DescribeRepositories/);
    expect(emfMetrics().find((blob) => 'ApiCalls' in blob)).toMatchObject({ registry: 'aws', ApiCalls: 1 });
  });

  it('says how to provide a config when there is none', async () => {
    process.env.LAMBDA_TASK_ROOT = join(tmpdir(), 'regprune-no-such-task-root');

    const error = await scheduledHandler({}, context()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/REGPRUNE_CONFIG is empty .* Terraform variable "config"/);
  });

  it('falls back to the config file bundled with the function', async () => {
    seed('team-a/api', 3);
    const taskRoot = await mkdtemp(join(tmpdir(), 'regprune-lambda-'));
    await writeFile(join(taskRoot, 'regprune.yaml'), config());
    process.env.LAMBDA_TASK_ROOT = taskRoot;

    try {
      const result = await scheduledHandler({}, context());

      expect(result.totals.deleted).toBe(1);
    } finally {
      await rm(taskRoot, { recursive: true, force: true });
    }
  });
});

describe('function URL handler', () => {
  it('answers 200 with the JSON report of a narrowed dry run sent as base64', async () => {
    seed('team-a/api', 4);
    seed('team-b/web', 4);
    process.env.REGPRUNE_CONFIG = config();

    const response = await httpHandler(
      urlEvent('{"repository":"team-a/*","dryRun":true}', { base64: true }),
      context(),
    );

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const report = JSON.parse(response.body) as Report;
    expect(report).toMatchObject({ version: 1, dryRun: true, totals: { deleted: 2 } });
    expect(report.registries[0]!.repositories.map((r) => r.name)).toEqual(['team-a/api']);
    expect(fake.count('BatchDeleteImage')).toBe(0);
  });

  it('records the IAM principal that signed the request as the caller, without its access key', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config();

    const response = await httpHandler(urlEvent('{}', { authorizer: IAM_AUTHORIZER }), context());

    const caller = {
      kind: 'aws-iam',
      userArn: 'arn:aws:sts::111122223333:assumed-role/deployer/ci-session',
      callerId: 'AROA3XFRBF535PLBIFPI4:ci-session',
      accountId: '111122223333',
    };
    expect((JSON.parse(response.body) as Report).caller).toEqual(caller);
    expect(runLine()).toMatchObject({ trigger: 'http', caller });
    expect(`${response.body}${stderr.mock.calls.join('')}`).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('records an unauthenticated caller when the URL passes no IAM authorizer', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config();

    const response = await httpHandler(urlEvent('{}'), context());

    expect((JSON.parse(response.body) as Report).caller).toEqual({ kind: 'unauthenticated' });
  });

  it('runs the configured prune for an empty body', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config();

    const response = await httpHandler(urlEvent(undefined), context());

    expect(response.statusCode).toBe(200);
    expect((JSON.parse(response.body) as Report).totals.deleted).toBe(1);
    expect(fake.images('team-a/api')).toHaveLength(2);
  });

  it.each([
    ['a body that is not JSON', '{"dryRun": tru', /request body: not JSON/],
    ['a key the request cannot set', '{"endpoint": "http://169.254.169.254/"}', /unknown key "endpoint"/],
    ['deletion turned on against a dry config', '{"dryRun": false}', /cannot turn deletion on/],
    ['a bad repository glob', '{"repository": "team-[ab]/*"}', /repository/],
  ])('answers 400 for %s and calls nothing', async (_case, body, message) => {
    process.env.REGPRUNE_CONFIG = config({ dryRun: true });

    const response = await httpHandler(urlEvent(body), context());

    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(message);
    expect(fake.count()).toBe(0);
  });

  it('answers 200 with the registry failure inside the report when ECR refuses access', async () => {
    fake.addRepository('team-a/api');
    fake.inject('DescribeRepositories', { status: 400, type: 'AccessDeniedException', message: 'not authorized' });
    process.env.REGPRUNE_CONFIG = config();

    const response = await httpHandler(urlEvent('{}'), context());

    expect(response.statusCode).toBe(200);
    expect((JSON.parse(response.body) as Report).registries[0]!.error).toMatch(/Grant ecr:DescribeRepositories/);
  });

  it('answers 409 and calls nothing while another run holds the registry lock in the state store', async () => {
    seed('team-a/api', 4);
    process.env.REGPRUNE_CONFIG = config();
    const other = await otherRun();

    const response = await httpHandler(urlEvent('{}'), context());
    await other?.release();

    expect(other).not.toBeNull();
    expect(response.statusCode).toBe(409);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(/already in progress for aws/);
    expect(fake.count()).toBe(0);
  });

  it('records each run in the history on the state store', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config();

    await httpHandler(urlEvent('{}'), context());
    await scheduledHandler({ dryRun: true }, context());

    const { entries } = await new StateHistoryStore({ store: new LocalStateStore(stateDir) }).read();
    expect(entries.map((entry) => entry.dryRun)).toEqual([false, true]);
  });

  it('answers 405 to anything but POST', async () => {
    process.env.REGPRUNE_CONFIG = config();

    const response = await httpHandler(urlEvent(undefined, { method: 'GET' }), context());

    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('answers 500 naming the problem when the deployed config is invalid', async () => {
    process.env.REGPRUNE_CONFIG = 'version: 2';

    const response = await httpHandler(urlEvent('{}'), context());

    expect(response.statusCode).toBe(500);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(/config is invalid/);
  });
});

describe('deployed entry point', () => {
  it('routes function URL requests to the HTTP handler and schedule input to the scheduled one', async () => {
    seed('team-a/api', 3);
    process.env.REGPRUNE_CONFIG = config({ dryRun: true });

    // ?wait=true: the synchronous answer (without it, POST queues the run: test/unit/async-runs.test.ts).
    const fromUrl = await mainHandler({ ...urlEvent('{}'), queryStringParameters: { wait: 'true' } }, context());
    const fromSchedule = await mainHandler({}, context());

    expect(fromUrl).toMatchObject({ statusCode: 200 });
    expect(fromSchedule).toMatchObject({ dryRun: true, totals: { deleted: 1 } });
  });
});
