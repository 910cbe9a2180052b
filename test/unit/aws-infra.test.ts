/**
 * The Terraform in infra/aws, parsed with @cdktf/hcl2json (no Terraform binary here). These tests
 * pin what keeps the deployment safe: least-privilege ECR access scoped to repositories, an
 * IAM-authenticated URL, one run at a time, and the runtime the bundle is built for.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertFiles } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';

const INFRA_DIR = fileURLToPath(new URL('../../infra/aws', import.meta.url));

interface Statement {
  sid?: string;
  actions?: string[];
  resources?: string[] | string;
  principals?: { type: string; identifiers: string[] }[];
}

type Blocks = Record<string, Record<string, Record<string, unknown>[]>>;

let hcl: {
  resource: Blocks;
  data: Blocks;
  variable: Record<string, Record<string, unknown>[]>;
  locals: Record<string, string>[];
  terraform: Record<string, unknown>[];
  output: Record<string, unknown>;
};

function only(blocks: Blocks, type: string): Record<string, unknown> {
  const byName = blocks[type];
  expect(byName, `${type} is declared`).toBeDefined();
  const all = Object.values(byName!).flat();
  expect(all, `exactly one ${type}`).toHaveLength(1);
  return all[0]!;
}

function statements(documentName: string): Statement[] {
  const document = hcl.data.aws_iam_policy_document?.[documentName]?.[0] as { statement?: Statement[] } | undefined;
  expect(document, `policy document ${documentName}`).toBeDefined();
  return document!.statement ?? [];
}

function resourcesOf(statement: Statement): string[] {
  return typeof statement.resources === 'string' ? [statement.resources] : (statement.resources ?? []);
}

function local(name: string): string {
  const merged = Object.assign({}, ...hcl.locals) as Record<string, string>;
  expect(merged[name], `local.${name}`).toBeDefined();
  return merged[name]!;
}

beforeAll(async () => {
  hcl = (await convertFiles(INFRA_DIR)) as typeof hcl;
});

describe('infra/aws Terraform', () => {
  it('runs the bundle on nodejs22.x, arm64, with room for two queue workers and the URL', () => {
    const fn = only(hcl.resource, 'aws_lambda_function');

    expect(fn.runtime).toBe('nodejs22.x');
    expect(fn.architectures).toEqual(['arm64']);
    expect(fn.reserved_concurrent_executions).toBe(3);
    expect(fn.handler).toBe('main.handler');
    expect(String(fn.filename)).toContain('data.archive_file.bundle');
    expect(String(fn.source_code_hash)).toContain('data.archive_file.bundle');
    expect(fn.timeout).toBe('${var.timeout_seconds}');
    const env = (fn.environment as { variables: Record<string, string> }[])[0]!.variables;
    expect(env.REGPRUNE_CONFIG).toBe('${var.config}');
    expect(env.REGPRUNE_STATE_BUCKET).toBe('${aws_s3_bucket.state.id}');
  });

  it('keeps state in a private, encrypted, owner-enforced bucket whose old history expires', () => {
    const bucket = only(hcl.resource, 'aws_s3_bucket');
    const publicAccess = only(hcl.resource, 'aws_s3_bucket_public_access_block');
    const encryption = only(hcl.resource, 'aws_s3_bucket_server_side_encryption_configuration');
    const ownership = only(hcl.resource, 'aws_s3_bucket_ownership_controls');
    const lifecycle = only(hcl.resource, 'aws_s3_bucket_lifecycle_configuration');
    const rules = lifecycle.rule as { status: string; filter: { prefix?: string }[]; expiration?: unknown[] }[];

    expect(bucket.force_destroy).not.toBe(true);
    expect(publicAccess).toMatchObject({
      bucket: '${aws_s3_bucket.state.id}',
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(JSON.stringify(encryption.rule)).toMatch(/"sse_algorithm":"(AES256|aws:kms)"/);
    expect(JSON.stringify(ownership.rule)).toContain('"object_ownership":"BucketOwnerEnforced"');
    const history = rules.find((rule) => rule.filter[0]?.prefix === 'history/');
    expect(history?.status).toBe('Enabled');
    expect(history?.expiration).toEqual([{ days: '${var.history_retention_days}' }]);
  });

  it('grants the function only object reads, writes and deletes on the state bucket, and listing it', () => {
    const s3 = statements('function').filter((s) => s.actions?.some((a) => a.startsWith('s3:')));

    expect(s3.map((s) => [s.actions, resourcesOf(s)])).toEqual([
      [['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], ['${aws_s3_bucket.state.arn}/*']],
      [['s3:ListBucket'], ['${aws_s3_bucket.state.arn}']],
    ]);
  });

  it("keeps the timeout within Lambda's 900 s", () => {
    const timeout = hcl.variable.timeout_seconds![0]!;

    expect(timeout.default).toBeLessThanOrEqual(900);
    expect(JSON.stringify(timeout.validation)).toContain('var.timeout_seconds <= 900');
  });

  it('exposes the function URL only with IAM auth', () => {
    const url = only(hcl.resource, 'aws_lambda_function_url');

    expect(url.authorization_type).toBe('AWS_IAM');
    const permissions = Object.values(hcl.resource.aws_lambda_permission ?? {}).flat();
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission.principal).toBe('${each.value}');
      expect(['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction']).toContain(permission.action);
      if (permission.action === 'lambda:InvokeFunctionUrl') expect(permission.function_url_auth_type).toBe('AWS_IAM');
    }
    expect(hcl.variable.url_invoker_arns![0]!.default).toEqual([]);
  });

  it('grants the function exactly the four ECR actions, none as a wildcard', () => {
    const ecrActions = statements('function')
      .flatMap((s) => s.actions ?? [])
      .filter((action) => action.startsWith('ecr:'));

    expect(new Set(ecrActions)).toEqual(
      new Set(['ecr:DescribeRepositories', 'ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:BatchDeleteImage']),
    );
    expect(ecrActions).toHaveLength(4);
    const every = statements('function').flatMap((s) => s.actions ?? []);
    expect(every.filter((action) => action.includes('*'))).toEqual([]);
    expect(every.every((action) => /^(ecr|logs|s3|sqs):/.test(action))).toBe(true);
  });

  it('scopes image reads and deletions to the configured repository ARNs', () => {
    const prune = statements('function').find((s) => s.actions?.includes('ecr:BatchDeleteImage'))!;

    expect(prune.actions).toEqual(expect.arrayContaining(['ecr:DescribeImages', 'ecr:BatchGetImage']));
    expect(resourcesOf(prune)).toEqual(['${local.ecr_repository_arns}']);
    expect(local('ecr_repository_arns')).toMatch(
      /for pattern in var\.repositories : "\$\{local\.ecr_arn_prefix\}\/\$\{pattern\}"/,
    );
    expect(local('ecr_arn_prefix')).toBe(
      'arn:${data.aws_partition.current.partition}:ecr:' +
        '${local.registry_region}:${local.registry_account_id}:repository',
    );
  });

  it('scopes repository listing to the registry\'s repositories, never "*"', () => {
    for (const statement of statements('function').filter((s) => s.actions?.some((a) => a.startsWith('ecr:')))) {
      for (const resource of resourcesOf(statement)) {
        expect(resource).not.toBe('*');
        expect(resource).toMatch(/local\.ecr_(arn_prefix|repository_arns)/);
      }
    }
    const list = statements('function').find((s) => s.actions?.includes('ecr:DescribeRepositories'))!;
    expect(resourcesOf(list)).toEqual(['${local.ecr_arn_prefix}/*']);
    expect(list.actions).toEqual(['ecr:DescribeRepositories']);
  });

  it('lets the function write only to its own log group, which has a retention', () => {
    const logs = statements('function').find((s) => s.actions?.some((a) => a.startsWith('logs:')))!;
    const group = only(hcl.resource, 'aws_cloudwatch_log_group');

    expect(resourcesOf(logs)).toEqual(['${aws_cloudwatch_log_group.function.arn}:*']);
    expect(logs.actions).not.toContain('logs:CreateLogGroup');
    expect(group.retention_in_days).toBe('${var.log_retention_days}');
    expect(hcl.variable.log_retention_days![0]!.default).toBeGreaterThan(0);
    expect(group.name).toBe('/aws/lambda/${var.name}');
  });

  it('schedules the function with EventBridge Scheduler through a role that may only invoke it and dead-letter', () => {
    const schedule = only(hcl.resource, 'aws_scheduler_schedule');
    const target = (schedule.target as Record<string, unknown>[])[0]!;
    const invoke = statements('scheduler');

    expect(schedule.schedule_expression).toBe('${var.schedule_expression}');
    expect(target.arn).toBe('${aws_lambda_function.regprune.arn}');
    expect(target.role_arn).toBe('${aws_iam_role.scheduler.arn}');
    expect(String(target.input)).toContain('var.schedule_input');
    // A map(any) would turn dryRun = true into "true", which the run refuses.
    expect(hcl.variable.schedule_input![0]!.type).toBe('${any}');
    expect(invoke.flatMap((s) => s.actions ?? [])).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(invoke.flatMap(resourcesOf)).toEqual([
      '${aws_lambda_function.regprune.arn}',
      '${aws_lambda_function.regprune.arn}:*',
      '${aws_sqs_queue.schedule_dlq.arn}',
    ]);
    expect(statements('scheduler_assume')[0]!.principals).toEqual([
      { type: 'Service', identifiers: ['scheduler.amazonaws.com'] },
    ]);
  });

  it('attaches each policy to its own role and nothing else', () => {
    const policies = Object.entries(hcl.resource.aws_iam_role_policy ?? {}).map(([name, [body]]) => [
      name,
      body!.role,
      body!.policy,
    ]);

    expect(policies).toEqual([
      ['function', '${aws_iam_role.function.id}', '${data.aws_iam_policy_document.function.json}'],
      ['in_use', '${aws_iam_role.function.id}', '${data.aws_iam_policy_document.in_use.json}'],
      ['queue', '${aws_iam_role.function.id}', '${data.aws_iam_policy_document.queue.json}'],
      ['scheduler', '${aws_iam_role.scheduler.id}', '${data.aws_iam_policy_document.scheduler.json}'],
    ]);
    expect(hcl.resource.aws_iam_role_policy_attachment).toBeUndefined();
    expect(statements('function_assume')[0]!.principals).toEqual([
      { type: 'Service', identifiers: ['lambda.amazonaws.com'] },
    ]);
  });

  it('pins Terraform and provider versions', () => {
    const required = (
      hcl.terraform[0]!.required_providers as Record<string, { source: string; version: string }>[]
    )[0]!;

    expect(hcl.terraform[0]!.required_version).toMatch(/^>= ?1\./);
    expect(required.aws).toMatchObject({ source: 'hashicorp/aws', version: expect.stringMatching(/< ?7/) });
    expect(required.archive).toMatchObject({ source: 'hashicorp/archive', version: expect.any(String) });
  });

  it('requires at least one repository pattern and outputs the URL', () => {
    const repositories = hcl.variable.repositories![0]!;

    expect(repositories.default).toBeUndefined();
    expect(JSON.stringify(repositories.validation)).toContain('length(var.repositories) > 0');
    expect(Object.keys(hcl.output)).toEqual(
      expect.arrayContaining(['function_url', 'function_name', 'log_group_name']),
    );
  });

  it('caps var.name so the longest derived IAM role name fits 64 characters', () => {
    const condition = JSON.stringify(hcl.variable.name![0]!.validation);
    const longest = Number(/\{1,(\d+)\}\$/.exec(condition)?.[1]);
    const roleNames = Object.values(hcl.resource.aws_iam_role!).map(([role]) => String(role!.name));

    expect(roleNames).toEqual(['${var.name}-function', '${var.name}-scheduler']);
    for (const name of roleNames)
      expect(name.replace('${var.name}', 'n'.repeat(longest)).length).toBeLessThanOrEqual(64);
  });

  it('lets URL invokers call Invoke only through the function URL', () => {
    const invoke = hcl.resource.aws_lambda_permission!.url_invokers_invoke![0]!;

    expect(invoke.action).toBe('lambda:InvokeFunction');
    expect(invoke.invoked_via_function_url).toBe(true);
  });

  it('refuses "*" and wildcards among the URL invokers', () => {
    const condition = JSON.stringify(hcl.variable.url_invoker_arns![0]!.validation);

    expect(condition).toContain('for arn in var.url_invoker_arns');
    expect(condition).toContain('!strcontains(arn, \\"*\\")');
  });

  it('parks failed or undelivered scheduled runs in an encrypted dead-letter queue both senders may use', () => {
    const schedule = only(hcl.resource, 'aws_scheduler_schedule');
    const target = (schedule.target as Record<string, unknown>[])[0]!;
    const invokeConfig = only(hcl.resource, 'aws_lambda_function_event_invoke_config');
    const queue = hcl.resource.aws_sqs_queue!.schedule_dlq![0]!;
    const sendsToQueue = (document: string) =>
      statements(document).find((s) => s.actions?.includes('sqs:SendMessage'))?.resources;

    expect(target.dead_letter_config).toEqual([{ arn: '${aws_sqs_queue.schedule_dlq.arn}' }]);
    expect(target.retry_policy).toEqual([{ maximum_retry_attempts: 2, maximum_event_age_in_seconds: 3600 }]);
    expect(JSON.stringify(invokeConfig.destination_config)).toContain(
      '"on_failure":[{"destination":"${aws_sqs_queue.schedule_dlq.arn}"}]',
    );
    expect(queue.sqs_managed_sse_enabled).toBe(true);
    expect(sendsToQueue('scheduler')).toEqual(['${aws_sqs_queue.schedule_dlq.arn}']);
    expect(sendsToQueue('function')).toEqual(['${aws_sqs_queue.schedule_dlq.arn}']);
  });

  it('alarms on function errors, throttles, failed deletions and undelivered runs, notifying the actions given', () => {
    const alarms = hcl.resource.aws_cloudwatch_metric_alarm!;
    const metrics = Object.values(alarms).map(([alarm]) => alarm!.metric_name ?? 'query');
    const failed = alarms.failed_deletions![0]!;
    const query = String((failed.metric_query as { expression: string }[])[0]!.expression);

    expect(new Set(metrics)).toEqual(new Set(['Errors', 'Throttles', 'query', 'ApproximateNumberOfMessagesVisible']));
    for (const [alarm] of Object.values(alarms))
      expect(alarm!.alarm_actions).toBe('${local.alarm_common.alarm_actions}');
    expect(local('alarm_common')).toMatchObject({ alarm_actions: '${var.alarm_action_arns}' });
    expect(hcl.variable.alarm_action_arns![0]!.default).toEqual([]);
    // The metric and namespace the EMF writer really emits.
    expect(query).toBe('SELECT SUM(ImagesFailed) FROM SCHEMA(regprune, registry, repository)');
    expect(readFileSync('lib/metrics/points.ts', 'utf8')).toContain("['ImagesFailed', repository.images.failed");
    expect(readFileSync('lib/metrics/aws.ts', 'utf8')).toContain("const AWS_METRICS_NAMESPACE = 'regprune';");
    expect(readFileSync('lib/metrics/points.ts', 'utf8')).toContain('(dimensions registry, repository)');
  });
});
