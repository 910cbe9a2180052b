/**
 * A wire-level fake of Amazon SQS for tests: a node:http server on 127.0.0.1 that speaks the JSON
 * protocol the AWS SDK v3 uses (awsJson1_0: `POST /`, `x-amz-target: AmazonSQS.<Operation>`,
 * `application/x-amz-json-1.0`, errors as `{"__type": "com.amazonaws.sqs#<Shape>", "message"}` with
 * `x-amzn-query-error`). Written from the SQS API reference; member names are held to botocore's
 * SQS model (test/unit/sqs-queue.test.ts). Time is the fake's own (`advance`), so visibility
 * timeouts, delays and redrive to a dead-letter queue are tested without waiting.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const TARGET_PREFIX = 'AmazonSQS.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const ACCOUNT = '000000000000';
/** API reference limits. */
const MAX_DELAY_S = 900;
const MAX_VISIBILITY_S = 43_200;
const MAX_RECEIVE = 10;

interface FakeMessage {
  readonly id: string;
  readonly body: string;
  readonly sentAtMs: number;
  visibleAtMs: number;
  receiveCount: number;
  firstReceivedAtMs?: number;
  receiptHandle?: string;
}

interface FakeQueue {
  readonly name: string;
  readonly visibilityTimeoutS: number;
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
  readonly messages: FakeMessage[];
}

export interface FakeSqsRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

class SqsError extends Error {
  constructor(
    readonly status: number,
    readonly shape: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** A fake SQS endpoint with queues in memory. */
export class FakeSqs {
  readonly requests: FakeSqsRequest[] = [];
  private readonly queues = new Map<string, FakeQueue>();
  private server?: Server;
  private nowMs = Date.UTC(2026, 5, 1);
  endpoint = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Creates a queue (what Terraform does) and returns its URL. */
  createQueue(
    name: string,
    options: { visibilityTimeoutS?: number; deadLetterQueue?: string; maxReceiveCount?: number } = {},
  ): string {
    this.queues.set(name, {
      name,
      visibilityTimeoutS: options.visibilityTimeoutS ?? 30,
      ...(options.deadLetterQueue
        ? { redrive: { deadLetterQueue: options.deadLetterQueue, maxReceiveCount: options.maxReceiveCount ?? 1 } }
        : {}),
      messages: [],
    });
    return this.urlOf(name);
  }

  urlOf(name: string): string {
    return `${this.endpoint}/${ACCOUNT}/${name}`;
  }

  /** Moves the fake's clock on (visibility timeouts and delays run on it). */
  advance(ms: number): void {
    this.nowMs += ms;
  }

  /** Bodies of the queue's messages, visible or not. */
  bodies(name: string): string[] {
    return this.queue(name).messages.map((message) => message.body);
  }

  /** Messages a ReceiveMessage would return now. */
  visibleCount(name: string): number {
    return this.queue(name).messages.filter((message) => message.visibleAtMs <= this.nowMs).length;
  }

  private queue(name: string): FakeQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new SqsError(400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'no queue');
    return queue;
  }

  private queueOfUrl(url: unknown): FakeQueue {
    const name = typeof url === 'string' ? url.split('/').pop() : undefined;
    const queue = name !== undefined ? this.queues.get(name) : undefined;
    if (!queue || url !== this.urlOf(queue.name)) {
      throw new SqsError(
        400,
        'QueueDoesNotExist',
        'AWS.SimpleQueueService.NonExistentQueue',
        'The specified queue does not exist.',
      );
    }
    return queue;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    try {
      if (req.method !== 'POST' || req.url !== '/' || !target.startsWith(TARGET_PREFIX)) {
        throw new SqsError(400, 'UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', 'not SQS');
      }
      if (!String(req.headers['content-type']).startsWith(CONTENT_TYPE)) {
        throw new SqsError(400, 'InvalidParameterValue', 'InvalidParameterValue', 'expected awsJson1_0');
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const operation = target.slice(TARGET_PREFIX.length);
      this.requests.push({ operation, body });
      this.reply(res, 200, this.operate(operation, body));
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      res.setHeader('x-amzn-query-error', `${error.queryCode};Sender`);
      this.reply(res, error.status, { __type: `com.amazonaws.sqs#${error.shape}`, message: error.message });
    }
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  }

  private operate(operation: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (operation) {
      case 'SendMessage':
        return this.sendMessage(body);
      case 'ReceiveMessage':
        return this.receiveMessage(body);
      case 'DeleteMessage':
        return this.deleteMessage(body);
      case 'ChangeMessageVisibility':
        return this.changeVisibility(body);
      default:
        throw new SqsError(400, 'UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', operation);
    }
  }

  private sendMessage(body: Record<string, unknown>): Record<string, unknown> {
    const queue = this.queueOfUrl(body.QueueUrl);
    const text = body.MessageBody;
    const delayS = body.DelaySeconds ?? 0;
    if (typeof text !== 'string' || text === '') {
      throw new SqsError(400, 'InvalidMessageContents', 'InvalidMessageContents', 'MessageBody is required');
    }
    if (typeof delayS !== 'number' || delayS < 0 || delayS > MAX_DELAY_S) {
      throw new SqsError(400, 'InvalidParameterValue', 'InvalidParameterValue', `DelaySeconds: 0 to ${MAX_DELAY_S}`);
    }
    const message: FakeMessage = {
      id: randomUUID(),
      body: text,
      sentAtMs: this.nowMs,
      visibleAtMs: this.nowMs + delayS * 1000,
      receiveCount: 0,
    };
    queue.messages.push(message);
    return { MD5OfMessageBody: md5(text), MessageId: message.id };
  }

  private receiveMessage(body: Record<string, unknown>): Record<string, unknown> {
    const queue = this.queueOfUrl(body.QueueUrl);
    const max = body.MaxNumberOfMessages ?? 1;
    if (typeof max !== 'number' || max < 1 || max > MAX_RECEIVE) {
      throw new SqsError(400, 'OverLimit', 'AWS.SimpleQueueService.OverLimit', `MaxNumberOfMessages: 1 to 10`);
    }
    const visibilityS = typeof body.VisibilityTimeout === 'number' ? body.VisibilityTimeout : queue.visibilityTimeoutS;
    const received: Record<string, unknown>[] = [];
    for (const message of [...queue.messages]) {
      if (received.length >= max) break;
      if (message.visibleAtMs > this.nowMs) continue;
      // Redrive happens on the receive that would exceed maxReceiveCount (SQS developer guide, DLQs).
      if (queue.redrive && message.receiveCount >= queue.redrive.maxReceiveCount) {
        queue.messages.splice(queue.messages.indexOf(message), 1);
        this.queue(queue.redrive.deadLetterQueue).messages.push({ ...message, visibleAtMs: this.nowMs });
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAtMs ??= this.nowMs;
      message.visibleAtMs = this.nowMs + visibilityS * 1000;
      message.receiptHandle = Buffer.from(`${message.id}:${randomUUID()}`).toString('base64');
      received.push({
        MessageId: message.id,
        ReceiptHandle: message.receiptHandle,
        MD5OfBody: md5(message.body),
        Body: message.body,
        Attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAtMs),
          ApproximateFirstReceiveTimestamp: String(message.firstReceivedAtMs),
        },
      });
    }
    return received.length > 0 ? { Messages: received } : {};
  }

  private byHandle(body: Record<string, unknown>): { queue: FakeQueue; message: FakeMessage } {
    const queue = this.queueOfUrl(body.QueueUrl);
    const message = queue.messages.find((candidate) => candidate.receiptHandle === body.ReceiptHandle);
    if (!message || typeof body.ReceiptHandle !== 'string') {
      throw new SqsError(
        400,
        'ReceiptHandleIsInvalid',
        'ReceiptHandleIsInvalid',
        'The input receipt handle is invalid.',
      );
    }
    return { queue, message };
  }

  private deleteMessage(body: Record<string, unknown>): Record<string, unknown> {
    const { queue, message } = this.byHandle(body);
    queue.messages.splice(queue.messages.indexOf(message), 1);
    return {};
  }

  private changeVisibility(body: Record<string, unknown>): Record<string, unknown> {
    const { message } = this.byHandle(body);
    const seconds = body.VisibilityTimeout;
    if (typeof seconds !== 'number' || seconds < 0 || seconds > MAX_VISIBILITY_S) {
      throw new SqsError(400, 'InvalidParameterValue', 'InvalidParameterValue', 'VisibilityTimeout: 0 to 43200');
    }
    if (message.visibleAtMs <= this.nowMs) {
      throw new SqsError(400, 'MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'not in flight');
    }
    message.visibleAtMs = this.nowMs + seconds * 1000;
    return {};
  }
}
