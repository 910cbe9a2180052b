/**
 * The AWS side of the work queue through the real @aws-sdk/client-sqs against the wire-level SQS
 * fake (test/support/fake-sqs.ts), whose members are held to botocore's SQS model: the queue the
 * Lambda sends to, and the deployed handler fed as the SQS event source mapping feeds it (receive,
 * invoke, delete what did not fail; a batch item failure comes back after the visibility timeout).
 */
import { botocoreModelPath, loadModel } from '../support/botocore-model.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaHandlerWith } from '../../functions/aws/main.js';
import { LOCK_HELD_RETRY_MS, type SqsBatchResponse } from '../../functions/aws/queue.js';
import type { ScheduledResult } from '../../functions/aws/scheduled.js';
import type { LambdaContext } from '../../functions/aws/run.js';
import type { FunctionUrlResult } from '../../functions/aws/http.js';
import { lockKeyFor } from '../../lib/lock/key.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { silentLogger } from '../../lib/log.js';
import { SqsWorkQueue } from '../../lib/queue/sqs-queue.js';
import type { WorkQueue } from '../../lib/queue/work-queue.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { NOW, TWO_REGISTRIES_CONFIG } from '../support/builders.js';
import { FakeSqs } from '../support/fake-sqs.js';
import { memoryRegistries, QUEUE_CONFIG } from '../support/queue-run.js';

const VISIBILITY_S = 960;
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

let fake: FakeSqs;
let client: SQSClient;
let queueUrl: string;
let dir: string;
let store: LocalStateStore;

beforeAll(async () => {
  fake = await new FakeSqs().start();
  client = new SQSClient({ endpoint: fake.endpoint, region: 'eu-west-1', credentials: CREDENTIALS });
});

afterAll(async () => {
  client.destroy();
  await fake.stop();
});

let queueCount = 0;
beforeEach(async () => {
  queueCount += 1;
  fake.createQueue(`runs-dlq-${queueCount}`);
  queueUrl = fake.createQueue(`runs-${queueCount}`, {
    visibilityTimeoutS: VISIBILITY_S,
    deadLetterQueue: `runs-dlq-${queueCount}`,
    maxReceiveCount: 3,
  });
  dir = await mkdtemp(join(tmpdir(), 'regprune-sqs-'));
  store = new LocalStateStore(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(): LambdaContext {
  return { getRemainingTimeInMillis: () => 840_000, awsRequestId: 'test-request' };
}

function handler(registries = memoryRegistries(2), queue: WorkQueue = new SqsWorkQueue(client, queueUrl)) {
  const env = { REGPRUNE_CONFIG: JSON.stringify(TWO_REGISTRIES_CONFIG), AWS_REGION: 'eu-west-1' };
  return lambdaHandlerWith({
    env,
    now: () => NOW,
    log: silentLogger,
    state: store,
    queue,
    providerFor: async (registry) => registries.get(registry.name)!,
  });
}

/** Holds the run lock of every configured registry, as another run would; returns the release. */
async function holdEveryLock(): Promise<() => Promise<void>> {
  const holders = await Promise.all(
    QUEUE_CONFIG.registries.map((registry) => new StateLeaseLock({ store, renewMs: 0 }).acquire(lockKeyFor(registry))),
  );
  return async () => {
    for (const holder of holders) await holder?.release();
  };
}

/**
 * One poll of the event source mapping (batch size 1): receive, invoke, delete unless reported as
 * a batch item failure. Returns the handler's answer, or null when nothing was visible.
 */
async function poll(invoke: ReturnType<typeof handler>): Promise<SqsBatchResponse | null> {
  const received = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['All'] }),
  );
  const [message] = received.Messages ?? [];
  if (!message) return null;
  const event = {
    Records: [
      {
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body,
        attributes: message.Attributes,
        messageAttributes: {},
        md5OfBody: message.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:runs',
        awsRegion: 'eu-west-1',
      },
    ],
  };
  const answer = (await invoke(event, context())) as SqsBatchResponse;
  if (!answer.batchItemFailures.some((failure) => failure.itemIdentifier === message.MessageId)) {
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }
  return answer;
}

function urlEvent(method: string, rawPath: string, body?: string, query?: Record<string, string>) {
  return {
    version: '2.0',
    rawPath,
    headers: { 'content-type': 'application/json' },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: { domainName: 'abc.lambda-url.eu-west-1.on.aws', http: { method, path: rawPath } },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

describe('SqsWorkQueue through the real SDK', () => {
  it('sends the message as JSON, invisible for its delay (at most SQS’s 900 s)', async () => {
    const queue = new SqsWorkQueue(client, queueUrl);

    await queue.send({ v: 1, kind: 'run', runId: 'a'.repeat(32) }, { delayMs: 3_600_000 });
    const name = queueUrl.split('/').pop()!;
    const visibleAtOnce = fake.visibleCount(name);
    fake.advance(900_000);

    expect(JSON.parse(fake.bodies(name)[0]!)).toEqual({ v: 1, kind: 'run', runId: 'a'.repeat(32) });
    expect(fake.requests.at(-1)?.body).toMatchObject({ DelaySeconds: 900 });
    expect(visibleAtOnce).toBe(0);
    expect(fake.visibleCount(name)).toBe(1);
  });

  it('says which queue and what to check when SQS refuses', async () => {
    const queue = new SqsWorkQueue(client, `${fake.endpoint}/000000000000/no-such-queue`);

    await expect(queue.send({ v: 1, kind: 'run', runId: 'a'.repeat(32) })).rejects.toThrow(
      /no-such-queue: .*REGPRUNE_QUEUE_URL/,
    );
  });
});

describe('the deployed handler on the SQS event source mapping', () => {
  it('sends a lock-held continuation again, invisible for 15 minutes, then runs it when the lock is free', async () => {
    const invoke = handler();
    const holder = new StateLeaseLock({ store, renewMs: 0 });
    const held = await holder.acquire(lockKeyFor(QUEUE_CONFIG.registries[0]!));
    const { Continuations } = await import('../../lib/queue/continuation.js');
    await new Continuations({
      store,
      queue: new SqsWorkQueue(client, queueUrl),
      now: () => NOW,
      log: silentLogger,
    }).request(lockKeyFor(QUEUE_CONFIG.registries[0]!), 'first');

    const whileHeld = await poll(invoke);
    const beforeDelay = await poll(invoke);
    fake.advance(LOCK_HELD_RETRY_MS - 1_000);
    const stillBefore = await poll(invoke);
    await held?.release();
    fake.advance(1_000);
    const afterRelease = await poll(invoke);

    // Not a failure: a wait for a lock may outlast maxReceiveCount deliveries (a chain of 50 links).
    expect(whileHeld).toEqual({ batchItemFailures: [] });
    expect([beforeDelay, stillBefore]).toEqual([null, null]);
    expect(afterRelease).toEqual({ batchItemFailures: [] });
    expect(fake.bodies(queueUrl.split('/').pop()!)).toEqual([]);
  });

  it('hands a registry the schedule found busy to a continuation, which prunes it once the lock is free', async () => {
    const registries = memoryRegistries(2);
    const invoke = handler(registries);
    const first = lockKeyFor(QUEUE_CONFIG.registries[0]!);
    const held = await new StateLeaseLock({ store, renewMs: 0 }).acquire(first); // a CLI run, say

    const scheduled = (await invoke({}, context())) as ScheduledResult; // no throw: no Lambda error
    const whileHeld = await poll(invoke);
    await held?.release();
    fake.advance(VISIBILITY_S * 1000);
    const afterRelease = await poll(invoke);

    expect(scheduled).toMatchObject({ dryRun: false, totals: { deleted: 2 } }); // `second`'s two repositories
    expect(whileHeld).toEqual({ batchItemFailures: [] }); // sent again, invisible for a while
    expect(afterRelease).toEqual({ batchItemFailures: [] });
    for (const repository of ['app/r0', 'app/r1']) {
      const tags = (await registries.get('first')!.listInventory(repository)).images.flatMap((i) => i.tags);
      expect(tags.sort()).toEqual(['2', '3', 'latest']);
    }
    expect(fake.bodies(queueUrl.split('/').pop()!)).toEqual([]);
  });

  it('is no Lambda error when every registry is busy and left to continuations, which collapse', async () => {
    const invoke = handler();
    const release = await holdEveryLock();

    const tonight = (await invoke({}, context())) as ScheduledResult;
    const again = (await invoke({}, context())) as ScheduledResult; // a retry of the schedule
    await release();

    expect(tonight).toMatchObject({ complete: false, continued: ['first', 'second'], totals: { deleted: 0 } });
    expect(again.continued).toEqual(['first', 'second']);
    // One continuation per registry: the second schedule's requests collapsed into the first's.
    expect(fake.bodies(queueUrl.split('/').pop()!).map((body) => JSON.parse(body).registry)).toEqual([
      'first',
      'second',
    ]);
  });

  it('hands on the glob of an EventBridge schedule narrowed to some repositories when it finds them busy', async () => {
    const registries = memoryRegistries(12);
    const invoke = handler(registries);
    const held = await new StateLeaseLock({ store, renewMs: 0 }).acquire(lockKeyFor(QUEUE_CONFIG.registries[0]!));
    const event = {
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      detail: { registry: 'first', repository: 'app/r1*' },
    };

    const scheduled = (await invoke(event, context())) as ScheduledResult;
    await held?.release();
    fake.advance(VISIBILITY_S * 1000);
    const answer = await poll(invoke);

    expect(scheduled.continued).toEqual(['first']);
    expect(answer).toEqual({ batchItemFailures: [] });
    const left = async (repository: string) => (await registries.get('first')!.listInventory(repository)).images.length;
    for (const repository of ['app/r1', 'app/r10', 'app/r11']) expect(await left(repository)).toBe(2);
    for (const repository of ['app/r0', 'app/r2', 'app/r9']) expect(await left(repository)).toBe(3);
  });

  it('fails the schedule when one of the busy registries could not be handed on, the other could', async () => {
    const real = new SqsWorkQueue(client, queueUrl);
    const invoke = handler(memoryRegistries(2), {
      location: real.location,
      send: async (message, options) =>
        'registry' in message && message.registry === 'second'
          ? Promise.reject(new Error('queue unreachable'))
          : real.send(message, options),
    });
    const release = await holdEveryLock();

    const outcome = await invoke({}, context()).catch((error: unknown) => error);
    await release();

    expect(outcome).toBeInstanceOf(Error);
    expect(fake.bodies(queueUrl.split('/').pop()!).map((body) => JSON.parse(body).registry)).toEqual(['first']);
  });

  it('still fails the schedule (an alarm) when a busy registry cannot be handed to a continuation', async () => {
    const invoke = handler(memoryRegistries(2), {
      location: 'unreachable',
      send: async () => Promise.reject(new Error('queue unreachable')),
    });
    const release = await holdEveryLock();

    const outcome = await invoke({}, context()).catch((error: unknown) => error);
    await release();

    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/already in progress for first, second/);
  });

  it('parks a message whose run keeps failing in the dead-letter queue after maxReceiveCount', async () => {
    // A deployed config that no longer loads: every delivery's run throws.
    const invoke = lambdaHandlerWith({
      env: { REGPRUNE_CONFIG: 'version: 2', AWS_REGION: 'eu-west-1' },
      now: () => NOW,
      log: silentLogger,
      state: store,
      queue: new SqsWorkQueue(client, queueUrl),
    });
    const { Continuations } = await import('../../lib/queue/continuation.js');
    await new Continuations({
      store,
      queue: new SqsWorkQueue(client, queueUrl),
      now: () => NOW,
      log: silentLogger,
    }).request(lockKeyFor(QUEUE_CONFIG.registries[0]!), 'first');

    const answers: Array<SqsBatchResponse | null> = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await poll(invoke));
      fake.advance(VISIBILITY_S * 1000);
    }

    expect(answers.slice(0, 3).map((answer) => answer?.batchItemFailures.length)).toEqual([1, 1, 1]);
    expect(fake.bodies(queueUrl.split('/').pop()!)).toEqual([]);
    expect(fake.bodies(`runs-dlq-${queueCount}`).map((body) => JSON.parse(body).kind)).toEqual(['continue']);
  });

  it('answers POST on the function URL with 202, runs the queued run from SQS, and GET shows it done', async () => {
    const invoke = handler();

    const accepted = (await invoke(urlEvent('POST', '/', '{"registry": "first"}'), context())) as FunctionUrlResult;
    const { runId, statusUrl } = JSON.parse(accepted.body) as { runId: string; statusUrl: string };
    await poll(invoke);
    const status = (await invoke(urlEvent('GET', `/runs/${runId}`), context())) as FunctionUrlResult;

    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers.location).toBe(`https://abc.lambda-url.eu-west-1.on.aws/runs/${runId}`);
    expect(statusUrl).toBe(accepted.headers.location);
    expect(status.statusCode).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ state: 'done', report: { totals: { deleted: 2 } } });
  });

  it('keeps the synchronous answer with ?wait=true, and answers 404 for an unknown run', async () => {
    const invoke = handler();

    const waited = (await invoke(urlEvent('POST', '/', '{}', { wait: 'true' }), context())) as FunctionUrlResult;
    const unknown = (await invoke(urlEvent('GET', `/runs/${'0'.repeat(32)}`), context())) as FunctionUrlResult;

    expect(waited.statusCode).toBe(200);
    expect(JSON.parse(waited.body)).toMatchObject({ version: 1, complete: true });
    expect(unknown.statusCode).toBe(404);
    expect(fake.bodies(queueUrl.split('/').pop()!)).toEqual([]);
  });
});

/** botocore's SQS model, from Debian's python3-botocore (CI installs it; test/support/botocore-model.ts). */
function botocoreSqsModel(): { shapes: Record<string, { members?: Record<string, unknown> }> } | null {
  const path = botocoreModelPath('sqs', '2012-11-05');
  if (path === null && process.env.CI === 'true')
    throw new Error('python3-botocore is not installed: .ci/run installs it');
  return path === null ? null : loadModel(path);
}

describe('the SQS fake against botocore’s model', () => {
  it('answers only with members botocore declares for each operation it serves', async () => {
    const model = botocoreSqsModel();
    if (model === null) return; // no botocore here; CI installs it and fails above without it
    const queue = new SqsWorkQueue(client, queueUrl);
    await queue.send({ v: 1, kind: 'run', runId: 'b'.repeat(32) });
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ['All'] }),
    );
    const members = (shape: string) => Object.keys(model.shapes[shape]?.members ?? {});

    const sendKeys = Object.keys(JSON.parse(JSON.stringify(await fakeAnswer('SendMessage'))));
    expect(members('SendMessageResult')).toEqual(expect.arrayContaining(sendKeys));
    expect(members('Message')).toEqual(expect.arrayContaining(Object.keys(received.Messages?.[0] ?? {})));
    for (const name of Object.keys(received.Messages?.[0]?.Attributes ?? {})) {
      expect((model.shapes.MessageSystemAttributeName as { enum?: string[] }).enum).toContain(name);
    }
    for (const shape of ['QueueDoesNotExist', 'ReceiptHandleIsInvalid', 'InvalidMessageContents', 'OverLimit']) {
      expect(model.shapes[shape], shape).toBeDefined();
    }
  });
});

/** The fake's raw answer to an operation (what the SDK parsed from), by re-sending the last request. */
async function fakeAnswer(operation: string): Promise<unknown> {
  const last = [...fake.requests].reverse().find((request) => request.operation === operation);
  const response = await fetch(`${fake.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${operation}` },
    body: JSON.stringify(last?.body ?? {}),
  });
  return response.json();
}
