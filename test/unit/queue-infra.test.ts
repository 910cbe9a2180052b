/**
 * The work queue's infrastructure (docs/design.md, "Continuation"): the Storage Queue, its poison
 * queue and the app identity's queue roles in Bicep; the SQS queue, its dead-letter queue, the event
 * source mapping and the permissions in Terraform; and the code's names agreeing with both.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertFiles } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { AZURE_WORK_QUEUE } from '../../lib/queue/azure-queue.js';
import { at, parseBicep, type BicepDeclaration, type BicepFor } from '../support/bicep.js';

const queueModule = parseBicep(readFileSync('infra/azure/modules/queue.bicep', 'utf8'));
const main = parseBicep(readFileSync('infra/azure/main.bicep', 'utf8'));

const QUEUE_ROLES = {
  reader: '19e7f393-937e-4f77-808e-94535e297925',
  messageProcessor: '8a0f0c08-91a1-4084-bc3d-661d67233fed',
  messageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
};
/** SQS API reference: VisibilityTimeout 0 to 43,200 s; maxReceiveCount 1 to 1,000. */
const SQS_MAX_VISIBILITY_S = 43_200;
/** Lambda CreateEventSourceMapping: ScalingConfig.MaximumConcurrency 2 to 1,000. */
const ESM_MIN_CONCURRENCY = 2;

function resources(declarations: BicepDeclaration[], type: string): BicepDeclaration[] {
  return declarations.filter((d) => d.kind === 'resource' && d.type?.split('@')[0] === type);
}

function declared(name: string): BicepDeclaration {
  const found = queueModule.find((d) => d.name === name);
  if (!found) throw new Error(`no declaration ${name}`);
  return found;
}

describe('Bicep: the work queue', () => {
  it('creates the queue the code sends to and the trigger reads, and its poison queue', () => {
    const queues = resources(queueModule, 'Microsoft.Storage/storageAccounts/queueServices/queues');
    const index = readFileSync('functions/azure/index.ts', 'utf8');

    expect(declared('queueName').value).toBe(AZURE_WORK_QUEUE);
    expect(queues.map((q) => at(q.value, 'name'))).toEqual([{ expr: 'queueName' }, '${queueName}-poison']);
    expect(index).toContain(`queueName: '${AZURE_WORK_QUEUE}'`);
    expect(index).toContain("connection: 'AzureWebJobsStorage'");
  });

  it('grants the app identity exactly queue read, process and send, on its own storage account', () => {
    const assignment = resources(queueModule, 'Microsoft.Authorization/roleAssignments')[0]!;
    const loop = assignment.value as BicepFor;
    const ids = (declared('queueRoleIds').value as { expr: string }[]).map(
      (item) => declared(item.expr).value as string,
    );

    expect(ids.sort()).toEqual(Object.values(QUEUE_ROLES).sort());
    expect(loop.for).toEqual({ item: 'roleId', source: 'queueRoleIds' });
    expect(at(loop.body, 'scope')).toEqual({ expr: 'storage' });
    expect(at(loop.body, 'properties.principalId')).toEqual({ expr: 'principalId' });
    expect((at(loop.body, 'name') as { expr: string }).expr).toMatch(/^guid\(storage\.id,principalId,roleId\)$/);
  });

  it('is deployed for the function app identity on the app storage account', () => {
    const module = main.find((d) => d.kind === 'module' && d.name === 'workQueue');

    expect(at(module?.value, 'params')).toEqual({
      storageAccountName: { expr: 'storage.name' },
      principalId: { expr: 'functionApp.identity.principalId' },
    });
  });

  it('delivers one message at a time per instance and poisons after five failed deliveries', () => {
    const host = JSON.parse(readFileSync('host.json', 'utf8')) as { extensions: { queues: Record<string, unknown> } };

    expect(host.extensions.queues).toMatchObject({ batchSize: 1, newBatchThreshold: 0, maxDequeueCount: 5 });
  });
});

type Body = Record<string, unknown>;
let hcl: {
  resource: Record<string, Record<string, Body[]>>;
  data: Record<string, Record<string, Body[]>>;
  locals: Body[];
};

beforeAll(async () => {
  hcl = (await convertFiles(fileURLToPath(new URL('../../infra/aws', import.meta.url)))) as typeof hcl;
});

function local(name: string): unknown {
  return (Object.assign({}, ...hcl.locals) as Body)[name];
}

describe('Terraform: the work queue', () => {
  it('keeps a message invisible longer than the longest function timeout, within SQS limits', () => {
    const runs = hcl.resource.aws_sqs_queue!.runs![0]!;
    const maxTimeoutS = 900; // variables.tf validation: timeout_seconds <= 900

    expect(runs.visibility_timeout_seconds).toBe('${local.runs_visibility_timeout_seconds}');
    expect(local('runs_visibility_timeout_seconds')).toBe('${var.timeout_seconds + 60}');
    expect(maxTimeoutS + 60).toBeLessThanOrEqual(SQS_MAX_VISIBILITY_S);
    expect(runs.sqs_managed_sse_enabled).toBe(true);
  });

  it('parks a message that keeps failing in an encrypted dead-letter queue', () => {
    const runs = hcl.resource.aws_sqs_queue!.runs![0]!;
    const dlq = hcl.resource.aws_sqs_queue!.runs_dlq![0]!;

    expect(String(runs.redrive_policy)).toContain('deadLetterTargetArn = aws_sqs_queue.runs_dlq.arn');
    expect(String(runs.redrive_policy)).toContain('maxReceiveCount     = local.runs_max_receive_count');
    expect(local('runs_max_receive_count')).toBeGreaterThanOrEqual(2);
    expect(dlq.sqs_managed_sse_enabled).toBe(true);
    expect(hcl.resource.aws_cloudwatch_metric_alarm!.parked_runs![0]!.dimensions).toEqual({
      QueueName: '${aws_sqs_queue.runs_dlq.name}',
    });
  });

  it('maps the queue to the function one message at a time, reporting batch item failures', () => {
    const mapping = hcl.resource.aws_lambda_event_source_mapping!.runs![0]!;
    const fn = hcl.resource.aws_lambda_function!.regprune![0]!;
    const maxConcurrency = (mapping.scaling_config as Body[])[0]!.maximum_concurrency as number;

    expect(mapping.event_source_arn).toBe('${aws_sqs_queue.runs.arn}');
    expect(mapping.function_name).toBe('${aws_lambda_function.regprune.arn}');
    expect(mapping.batch_size).toBe(1);
    expect(mapping.function_response_types).toEqual(['ReportBatchItemFailures']);
    expect(maxConcurrency).toBeGreaterThanOrEqual(ESM_MIN_CONCURRENCY);
    // Room left for the schedule and the function URL while the workers run.
    expect(fn.reserved_concurrent_executions as number).toBeGreaterThan(maxConcurrency);
  });

  it('lets the function receive, delete and send on the work queue only, and tells it the queue URL', () => {
    const document = hcl.data.aws_iam_policy_document!.queue![0]!;
    const statements = document.statement as { actions: string[]; resources: string[] }[];
    const fn = hcl.resource.aws_lambda_function!.regprune![0]!;
    const env = (fn.environment as { variables: Record<string, string> }[])[0]!.variables;

    expect(statements.flatMap((s) => s.actions).sort()).toEqual([
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    expect(new Set(statements.flatMap((s) => s.resources))).toEqual(new Set(['${aws_sqs_queue.runs.arn}']));
    expect(hcl.resource.aws_iam_role_policy!.queue![0]!.role).toBe('${aws_iam_role.function.id}');
    expect(env.REGPRUNE_QUEUE_URL).toBe('${aws_sqs_queue.runs.url}');
  });
});
