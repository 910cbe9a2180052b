/**
 * The Azure side of the work queue against Azurite's queue and blob services: the Storage Queue the
 * function app sends to (base64 JSON, as the queue trigger decodes it), and the function handlers —
 * async POST (202, status URL), the queue-triggered worker (a message whose lock is held is sent
 * again, invisible for a while, not lost) and GET on the status URL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import functions, { type InvocationContext, type Timer } from '@azure/functions';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  asyncHttpHandler,
  LOCK_HELD_RETRY_MS,
  queueHandler,
  runStatusHandler,
  scheduledHandler,
  type AzureQueueDeps,
} from '../../functions/azure/queue.js';
import { lockKeyFor } from '../../lib/lock/key.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { silentLogger } from '../../lib/log.js';
import { AZURE_WORK_QUEUE, AzureWorkQueue, azureWorkQueueFromEnv } from '../../lib/queue/azure-queue.js';
import { Continuations } from '../../lib/queue/continuation.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { startAzuriteWithQueue } from '../support/azurite-queue.js';
import type { Azurite } from '../support/azurite.js';
import { NOW, TWO_REGISTRIES_CONFIG } from '../support/builders.js';
import { memoryRegistries, QUEUE_CONFIG } from '../support/queue-run.js';

let azurite: Azurite;
let queueClient: QueueClient;
let store: LocalStateStore;
let dir: string;
let queueCount = 0;

beforeAll(async () => {
  azurite = await startAzuriteWithQueue();
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

beforeEach(async () => {
  queueCount += 1;
  queueClient = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(
    `regprune-runs-${queueCount}`,
  );
  await queueClient.create();
  dir = await mkdtemp(join(tmpdir(), 'regprune-azq-'));
  store = new LocalStateStore(dir);
  return () => rm(dir, { recursive: true, force: true });
});

function deps(registries = memoryRegistries(2)): AzureQueueDeps {
  return {
    env: { REGPRUNE_CONFIG: JSON.stringify(TWO_REGISTRIES_CONFIG), AzureWebJobsStorage: azurite.connectionString },
    now: () => NOW,
    state: store,
    queue: new AzureWorkQueue(queueClient),
    providerFor: async (registry) => registries.get(registry.name)!,
  };
}

const TIMER = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: undefined } as unknown as Timer;

function context(): InvocationContext {
  return new functions.InvocationContext({ invocationId: 'test', functionName: 'pruneWorker', logHandler: () => {} });
}

/** What the queue trigger hands the function: the next visible message, base64-decoded and parsed. */
async function nextMessage(): Promise<unknown> {
  const { receivedMessageItems } = await queueClient.receiveMessages({ numberOfMessages: 1 });
  const [item] = receivedMessageItems;
  if (!item) return null;
  await queueClient.deleteMessage(item.messageId, item.popReceipt);
  return JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8'));
}

async function messageCount(): Promise<number> {
  return (await queueClient.getProperties()).approximateMessagesCount ?? 0;
}

function request(method: string, url: string, body?: string, params: Record<string, string> = {}) {
  return new functions.HttpRequest({
    method,
    url,
    params,
    ...(body !== undefined ? { body: { string: body } } : {}),
    headers: { 'content-type': 'application/json' },
  });
}

describe('AzureWorkQueue on Azurite', () => {
  it('sends base64 JSON, the encoding the queue trigger decodes by default', async () => {
    await new AzureWorkQueue(queueClient).send({ v: 1, kind: 'run', runId: 'c'.repeat(32) });

    expect(await nextMessage()).toEqual({ v: 1, kind: 'run', runId: 'c'.repeat(32) });
  });

  it('keeps a delayed message invisible, but on the queue', async () => {
    await new AzureWorkQueue(queueClient).send({ v: 1, kind: 'run', runId: 'c'.repeat(32) }, { delayMs: 60_000 });

    expect(await nextMessage()).toBeNull();
    expect(await messageCount()).toBe(1);
  });

  it('finds the regprune-runs queue of AzureWebJobsStorage', async () => {
    const queue = await azureWorkQueueFromEnv({ AzureWebJobsStorage: azurite.connectionString });

    expect(queue.location).toMatch(new RegExp(`/${AZURE_WORK_QUEUE}$`));
  });
});

describe('the function handlers on Azurite', () => {
  it('answers POST with 202 and a status URL, runs the run from the queue, and GET shows it done', async () => {
    const prepared = deps();

    const accepted = await asyncHttpHandler(prepared)(
      request('POST', 'https://app.example/api/prune', '{"registry": "second"}'),
      context(),
    );
    const body = accepted.jsonBody as { runId: string; statusUrl: string };
    await queueHandler(prepared)(await nextMessage(), context());
    const status = await runStatusHandler(prepared)(
      request('GET', body.statusUrl, undefined, { id: body.runId }),
      context(),
    );

    expect(accepted.status).toBe(202);
    expect(body.statusUrl).toBe(`https://app.example/api/prune/runs/${body.runId}`);
    expect(accepted.headers).toMatchObject({ location: body.statusUrl });
    expect(status.status).toBe(200);
    expect(status.jsonBody).toMatchObject({ state: 'done', report: { registries: [{ name: 'second' }] } });
  });

  it('refuses a bad body with 400 and queues nothing', async () => {
    const answer = await asyncHttpHandler(deps())(
      request('POST', 'https://app.example/api/prune', '{"registry": 5}'),
      context(),
    );

    expect(answer.status).toBe(400);
    expect(await messageCount()).toBe(0);
  });

  it('sends a lock-held continuation back to the queue, invisible for a while, instead of losing it', async () => {
    // Long enough that the checks right after cannot outrun it even on a loaded machine.
    const prepared = { ...deps(), lockHeldRetryMs: 6_000 };
    const key = lockKeyFor(QUEUE_CONFIG.registries[0]!);
    const held = await new StateLeaseLock({ store, renewMs: 0 }).acquire(key);
    await new Continuations({ store, queue: prepared.queue!, now: () => NOW, log: silentLogger }).request(key, 'first');
    const message = await nextMessage();

    await queueHandler(prepared)(message, context());
    await held?.release();
    const atOnce = await nextMessage();
    const countWhileInvisible = await messageCount();
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const later = await nextMessage();

    expect(LOCK_HELD_RETRY_MS).toBeGreaterThanOrEqual(60_000);
    expect(atOnce).toBeNull();
    expect(countWhileInvisible).toBe(1);
    expect(later).toEqual(message);
  }, 30_000);

  it('hands a registry the nightly timer found busy to a continuation on the queue, which then prunes it', async () => {
    const registries = memoryRegistries(2);
    const prepared = deps(registries);
    const key = lockKeyFor(QUEUE_CONFIG.registries[0]!);
    const held = await new StateLeaseLock({ store, renewMs: 0 }).acquire(key);

    await scheduledHandler(prepared)(TIMER, context());
    await held?.release();
    const message = await nextMessage();
    await queueHandler(prepared)(message, context());

    expect(message).toMatchObject({ kind: 'continue', registry: 'first', chain: 0 });
    for (const repository of ['app/r0', 'app/r1']) {
      const tags = (await registries.get('first')!.listInventory(repository)).images.flatMap((i) => i.tags);
      expect(tags.sort()).toEqual(['2', '3', 'latest']);
    }
    expect(await messageCount()).toBe(0);
  }, 30_000);
});
