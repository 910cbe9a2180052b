/**
 * The work queue on AWS: an SQS queue (infra/aws/queue.tf) that a Lambda event source mapping
 * delivers to the function. Its URL comes from REGPRUNE_QUEUE_URL, set by Terraform.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describeError, StateUnavailableError } from '../errors.js';
import type { WorkMessage } from './message.js';
import type { SendOptions, WorkQueue } from './work-queue.js';

/** SendMessage `DelaySeconds`: 0 to 900 (SQS API reference). */
export const SQS_MAX_DELAY_S = 900;

/** Sends work messages to one SQS queue. */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    readonly location: string,
  ) {}

  async send(message: WorkMessage, options: SendOptions = {}): Promise<void> {
    const delaySeconds = Math.min(SQS_MAX_DELAY_S, Math.ceil((options.delayMs ?? 0) / 1000));
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.location,
          MessageBody: JSON.stringify(message),
          ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
        }),
      );
    } catch (error) {
      throw new StateUnavailableError(
        `cannot queue a ${message.kind} message on ${this.location}: ${describeError(error)}; check ` +
          'REGPRUNE_QUEUE_URL and that the function role may sqs:SendMessage to it (infra/aws/queue.tf)',
        { cause: error },
      );
    }
  }
}

/** The queue REGPRUNE_QUEUE_URL names, in the Lambda's region; `endpoint` for a local server. */
export function sqsWorkQueueFromEnv(env: NodeJS.ProcessEnv, endpoint?: string): SqsWorkQueue {
  const url = env.REGPRUNE_QUEUE_URL?.trim();
  if (!url) {
    throw new StateUnavailableError(
      'No SQS queue for continuations and async runs: set REGPRUNE_QUEUE_URL (infra/aws/queue.tf sets it)',
    );
  }
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  return new SqsWorkQueue(new SQSClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) }), url);
}
