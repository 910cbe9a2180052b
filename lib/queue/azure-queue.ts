/**
 * The work queue on Azure: a Storage Queue in the function app's own storage account, reached like
 * its state store (a connection string locally and on Azurite, else the managed identity, which
 * infra/azure grants Storage Queue Data Message Sender and Processor). Messages are base64 JSON:
 * the Functions queue trigger decodes base64 by default (host.json `messageEncoding`).
 */
import type { QueueClient } from '@azure/storage-queue';
import { describeError, StateUnavailableError } from '../errors.js';
import type { WorkMessage } from './message.js';
import type { SendOptions, WorkQueue } from './work-queue.js';

/** The queue infra/azure creates; its poison queue is `<name>-poison`. */
export const AZURE_WORK_QUEUE = 'regprune-runs';
/** A Storage Queue message may stay invisible at most 7 days (Put Message, `visibilitytimeout`). */
const MAX_VISIBILITY_S = 7 * 24 * 3600;

/** Base64 of the message's JSON, as the queue trigger expects it. */
export function encodeAzureMessage(message: WorkMessage): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

/** Sends work messages to one Storage Queue. */
export class AzureWorkQueue implements WorkQueue {
  readonly location: string;

  constructor(private readonly client: QueueClient) {
    this.location = client.url;
  }

  async send(message: WorkMessage, options: SendOptions = {}): Promise<void> {
    const visibilityTimeout = Math.min(MAX_VISIBILITY_S, Math.ceil((options.delayMs ?? 0) / 1000));
    try {
      await this.client.sendMessage(encodeAzureMessage(message), visibilityTimeout > 0 ? { visibilityTimeout } : {});
    } catch (error) {
      throw new StateUnavailableError(
        `cannot queue a ${message.kind} message on ${this.location}: ${describeError(error)}; check that the queue ` +
          'exists (infra/azure creates it) and that the app identity has Storage Queue Data Message Sender',
        { cause: error },
      );
    }
  }
}

/**
 * The work queue of the function app: `AzureWebJobsStorage` as a connection string, or
 * `AzureWebJobsStorage__queueServiceUri` / `__accountName` with the managed identity.
 */
export async function azureWorkQueueFromEnv(env: NodeJS.ProcessEnv): Promise<AzureWorkQueue> {
  const { QueueServiceClient } = await import('@azure/storage-queue');
  const name = env.REGPRUNE_QUEUE?.trim() || AZURE_WORK_QUEUE;
  const connection = env.AzureWebJobsStorage?.trim();
  if (connection) return new AzureWorkQueue(QueueServiceClient.fromConnectionString(connection).getQueueClient(name));
  const account = env.AzureWebJobsStorage__accountName?.trim();
  const uri =
    env.AzureWebJobsStorage__queueServiceUri?.trim() || (account ? `https://${account}.queue.core.windows.net` : '');
  if (!uri) {
    throw new StateUnavailableError(
      'No storage queue for continuations and async runs: set AzureWebJobsStorage (connection string) or ' +
        'AzureWebJobsStorage__accountName (managed identity).',
    );
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  const clientId = env.AzureWebJobsStorage__clientId?.trim();
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  return new AzureWorkQueue(new QueueServiceClient(uri, credential).getQueueClient(name));
}
