/**
 * infra/aws checked offline against the published models: every argument and block against the
 * hashicorp/aws provider schema (pinned extract of @cdktf/provider-aws, scripts/extract-aws-provider-schema.mjs)
 * and values against botocore's service models (pinned extract, scripts/extract-botocore-limits.py).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertFiles } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';

interface StructSchema {
  attributes: Record<string, { required: boolean }>;
  blocks: Record<string, StructSchema & { required: boolean }>;
}
interface ProviderSchema {
  source: { version: string; provider: string };
  resource: Record<string, StructSchema>;
  data: Record<string, StructSchema>;
}
interface Limits {
  min?: number;
  max?: number;
  pattern?: string;
}
type Body = Record<string, unknown>;
type Blocks = Record<string, Record<string, Body[]>>;

const fixture = (name: string) => JSON.parse(readFileSync(`test/fixtures/${name}`, 'utf8'));
const provider = fixture('aws-provider-schema.json') as ProviderSchema;
const botocore = fixture('botocore-limits.json') as {
  botocore: string;
  services: Record<string, Record<string, Limits & string[]>>;
};
const META_ARGUMENTS = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle']);

let hcl: { resource: Blocks; data: Blocks; variable: Record<string, Body[]>; terraform: Body[] };

beforeAll(async () => {
  hcl = (await convertFiles(fileURLToPath(new URL('../../infra/aws', import.meta.url)))) as typeof hcl;
});

/** What in `body` the schema does not know, or misses of what it requires, as "path: problem". */
function schemaProblems(body: Body, schema: StructSchema, path: string, top: boolean): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (top && META_ARGUMENTS.has(key)) continue;
    if (key === 'dynamic') {
      // `dynamic "statement" { for_each = …; content { … } }` generates `statement` blocks: check each content.
      for (const [name, dynamics] of Object.entries(value as Record<string, Array<{ content?: Body[] }>>)) {
        const block = schema.blocks[name];
        if (!block) problems.push(`${path}.dynamic.${name}: not a block of the provider`);
        else
          for (const content of dynamics.flatMap((d) => d.content ?? [])) {
            problems.push(...schemaProblems(content, block, `${path}.${name}`, false));
          }
      }
      continue;
    }
    const block = schema.blocks[key];
    if (block) {
      if (!Array.isArray(value)) problems.push(`${path}.${key}: a block, given as an argument`);
      else for (const item of value as Body[]) problems.push(...schemaProblems(item, block, `${path}.${key}`, false));
    } else if (!schema.attributes[key]) problems.push(`${path}.${key}: not an argument or block of the provider`);
  }
  for (const [name, attribute] of Object.entries(schema.attributes)) {
    if (attribute.required && !(name in body)) problems.push(`${path}.${name}: required, missing`);
  }
  for (const [name, block] of Object.entries(schema.blocks)) {
    if (block.required && !(name in body)) problems.push(`${path}.${name}: required block, missing`);
  }
  return problems;
}

function allOf(kind: 'resource' | 'data'): [string, string, Body][] {
  return Object.entries(hcl[kind]).flatMap(([type, byName]) =>
    Object.entries(byName).flatMap(([name, bodies]) =>
      bodies.map((body): [string, string, Body] => [type, name, body]),
    ),
  );
}

function longestName(): string {
  const condition = JSON.stringify(hcl.variable.name![0]!.validation);
  const max = Number(/\{1,(\d+)\}\$/.exec(condition)?.[1]);
  expect(max).toBeGreaterThan(0);
  return 'n'.repeat(max);
}

function withLongestName(template: unknown): string {
  return String(template).replaceAll('${var.name}', longestName());
}

function within(value: string | number, limits: Limits, what: string): void {
  const length = typeof value === 'string' ? value.length : value;
  if (limits.min !== undefined) expect(length, `${what} >= ${limits.min}`).toBeGreaterThanOrEqual(limits.min);
  if (limits.max !== undefined) expect(length, `${what} <= ${limits.max}`).toBeLessThanOrEqual(limits.max);
  if (limits.pattern && typeof value === 'string') expect(value, what).toMatch(new RegExp(`^(?:${limits.pattern})$`));
}

describe('infra/aws against the hashicorp/aws provider schema', () => {
  it('uses only arguments and blocks the provider declares, and every required one', () => {
    const problems = (['resource', 'data'] as const).flatMap((kind) =>
      allOf(kind)
        .filter(([type]) => type.startsWith('aws_'))
        .flatMap(([type, name, body]) => {
          const schema = provider[kind][type];
          if (!schema) return [`${kind}.${type}: not in the pinned schema (re-run the extract script)`];
          return schemaProblems(body, schema, `${type}.${name}`, true);
        }),
    );

    expect(problems).toEqual([]);
  });

  it('catches an argument the provider does not have', () => {
    const schema = provider.resource.aws_sqs_queue!;

    expect(schemaProblems({ name: 'q', retention_days: 4 }, schema, 'q', true)).toEqual([
      'q.retention_days: not an argument or block of the provider',
    ]);
  });

  it('requires a provider version that has every argument used', () => {
    const version = String(
      (hcl.terraform[0]!.required_providers as Record<string, { version: string }>[])[0]!.aws!.version,
    );

    expect(provider.source.provider).toBe('hashicorp/aws 6.25.0');
    // invoked_via_function_url (overlay in the extract) arrived in 6.29.0.
    expect(version).toMatch(/^>= 6\.29\.0,/);
  });
});

describe('infra/aws against the botocore service models', () => {
  const lambda = () => botocore.services.lambda!;

  it('deploys a runtime Lambda accepts', () => {
    const runtime = String(Object.values(hcl.resource.aws_lambda_function!)[0]![0]!.runtime);

    expect(lambda().Runtime).toContain(runtime);
  });

  it('keeps every name derived from the longest allowed var.name within its service limit', () => {
    const iam = botocore.services.iam!;
    for (const [role] of Object.values(hcl.resource.aws_iam_role!))
      within(withLongestName(role!.name), iam.RoleName!, 'role');
    for (const [policy] of Object.values(hcl.resource.aws_iam_role_policy!)) {
      within(withLongestName(policy!.name), iam.PolicyName!, 'role policy');
    }
    const [fn] = Object.values(hcl.resource.aws_lambda_function!)[0]!;
    // The model's 140 counts a full ARN; a bare function name is at most 64 (Lambda's CreateFunction docs).
    within(withLongestName(fn!.function_name), { min: 1, max: 64, pattern: '[a-zA-Z0-9-_]+' }, 'function name');
    const [schedule] = Object.values(hcl.resource.aws_scheduler_schedule!)[0]!;
    within(withLongestName(schedule!.name), botocore.services.scheduler!.ScheduleName!, 'schedule');
    for (const [alarm] of Object.values(hcl.resource.aws_cloudwatch_metric_alarm!)) {
      within(withLongestName(alarm!.alarm_name), botocore.services.cloudwatch!.AlarmName!, 'alarm');
    }
    const [group] = Object.values(hcl.resource.aws_cloudwatch_log_group!)[0]!;
    within(withLongestName(group!.name), botocore.services.logs!.LogGroupName!, 'log group');
    // SQS's model types QueueName as a bare string; its docs cap it at 80 of [A-Za-z0-9_-].
    const [queue] = Object.values(hcl.resource.aws_sqs_queue!)[0]!;
    within(withLongestName(queue!.name), { min: 1, max: 80, pattern: '[A-Za-z0-9_-]+' }, 'queue');
    // bucket_prefix: 20 characters of the name + "-state-"; the provider allows 37 (63 less its suffix).
    const [bucket] = Object.values(hcl.resource.aws_s3_bucket!)[0]!;
    expect(String(bucket!.bucket_prefix)).toBe('${substr(lower(replace(var.name, "_", "-")), 0, 20)}-state-');
    expect(20 + '-state-'.length).toBeLessThanOrEqual(37);
  });

  it('the old 56-character cap would overflow an IAM role name', () => {
    expect(`${'n'.repeat(56)}-scheduler`.length).toBeGreaterThan(botocore.services.iam!.RoleName!.max!);
  });

  it('keeps retry settings within the scheduler and Lambda ranges', () => {
    const [schedule] = Object.values(hcl.resource.aws_scheduler_schedule!)[0]!;
    const retry = (schedule!.target as Body[])[0]!.retry_policy as Body[];
    const [config] = Object.values(hcl.resource.aws_lambda_function_event_invoke_config!)[0]!;
    const scheduler = botocore.services.scheduler!;

    within(Number(retry[0]!.maximum_retry_attempts), scheduler.RetryAttempts!, 'schedule retries');
    within(Number(retry[0]!.maximum_event_age_in_seconds), scheduler.RetryEventAge!, 'schedule event age');
    within(Number(config!.maximum_retry_attempts), lambda().Retries!, 'async retries');
    within(Number(config!.maximum_event_age_in_seconds), lambda().EventAge!, 'async event age');
  });

  // CI installs python3-botocore (.ci/run), so there the check always runs. Elsewhere a machine
  // without botocore must at least fail for that reason alone.
  it('pins an extract the installed botocore agrees with', () => {
    const check = spawnSync('python3', ['scripts/extract-botocore-limits.py', '--check'], { encoding: 'utf8' });
    const missing = /ModuleNotFoundError: No module named 'botocore'/.test(check.stderr ?? '');

    if (missing && process.env.CI !== 'true') return;
    expect(check.stderr, 'botocore is importable').not.toMatch(/ModuleNotFoundError/);
    expect(check.stdout).toMatch(/^pin \(botocore [\d.]+\) agrees with installed botocore [\d.]+$/m);
    expect(check.status).toBe(0);
  });
});
