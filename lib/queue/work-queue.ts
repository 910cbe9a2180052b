/**
 * The send side of the work queue. The receive side is the platform's trigger (Azure's queue
 * trigger, Lambda's SQS event source mapping), so a queue only needs to send, now or later.
 */
import { randomBytes } from 'node:crypto';
import type { WorkMessage } from './message.js';

export interface SendOptions {
  /** Keep the message invisible this long first (Azure visibility timeout, SQS DelaySeconds). */
  readonly delayMs?: number;
}

export interface WorkQueue {
  /** Where messages go, for messages (`regprune-runs`, an SQS queue URL). */
  readonly location: string;
  send(message: WorkMessage, options?: SendOptions): Promise<void>;
}

/** 128 random bits in hex: a run id or a continuation token (RUN_ID_PATTERN). */
export function newRandomId(): string {
  return randomBytes(16).toString('hex');
}

/** A queue opened on first send, so a host without one configured still runs (and says why on send). */
export function lazyWorkQueue(location: string, open: () => WorkQueue | Promise<WorkQueue>): WorkQueue {
  let opened: Promise<WorkQueue> | undefined;
  return {
    location,
    send: async (message, options) => {
      opened ??= Promise.resolve().then(open);
      await (await opened).send(message, options);
    },
  };
}
