/**
 * The permissions in-use protection needs, held to what its sources really call: every SDK command
 * the ECS and Lambda sources send is granted (and nothing else, all of it read-only), the Bicep
 * grants Reader on each configured resource group, and the Kubernetes ClusterRole allows get/list
 * on exactly the resources the Kubernetes source lists against the API fake.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertFiles } from '@cdktf/hcl2json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubernetesSource } from '../../lib/inuse/kubernetes.js';
import { at, parseBicep } from '../support/bicep.js';
import { FakeKubernetes } from '../support/fake-kubernetes.js';

const READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

/** `ecs:ListClusters` for every `new ListClustersCommand(` in a source file. */
function actionsCalledBy(file: string, service: string): string[] {
  const text = readFileSync(fileURLToPath(new URL(`../../lib/inuse/${file}`, import.meta.url)), 'utf8');
  return [...new Set([...text.matchAll(/new (\w+)Command\(/g)].map((match) => `${service}:${match[1]}`))].sort();
}

interface DynamicStatement {
  for_each: string;
  content: Array<{ sid: string; actions: string[]; resources: string[] }>;
}

describe('Terraform: in-use read permissions', () => {
  let statements: DynamicStatement[];
  let hcl: {
    resource: Record<string, Record<string, Record<string, unknown>[]>>;
    variable: Record<string, Array<{ default: unknown }>>;
  };
  beforeAll(async () => {
    const converted = (await convertFiles(fileURLToPath(new URL('../../infra/aws', import.meta.url)))) as typeof hcl & {
      data: { aws_iam_policy_document: Record<string, Array<{ dynamic: { statement: DynamicStatement[] } }>> };
    };
    hcl = converted;
    statements = converted.data.aws_iam_policy_document.in_use![0]!.dynamic.statement;
  });

  const granted = (variable: string) =>
    statements
      .filter((statement) => statement.for_each === `\${var.${variable} ? [1] : []}`)
      .flatMap((statement) => statement.content[0]!.actions)
      .sort();

  it('grants the ECS source exactly the calls it makes, only when in_use_ecs is set', () => {
    expect(granted('in_use_ecs')).toEqual(actionsCalledBy('ecs.ts', 'ecs'));
  });

  it('grants the Lambda source exactly the calls it makes, only when in_use_lambda is set', () => {
    expect(granted('in_use_lambda')).toEqual(actionsCalledBy('lambda.ts', 'lambda'));
  });

  it('grants only reads, and "*" only to the calls that support no resource-level permission', () => {
    const all = statements.flatMap((statement) => statement.content[0]!);
    expect(all.flatMap((s) => s.actions).every((action) => /^(ecs|lambda):(List|Describe|Get)/.test(action))).toBe(
      true,
    );
    const unscoped = all.filter((s) => s.resources.includes('*')).flatMap((s) => s.actions);
    expect(unscoped.sort()).toEqual(['ecs:DescribeTaskDefinition', 'ecs:ListClusters', 'lambda:ListFunctions']);
  });

  it('is off by default and attached to the function role only when a source is enabled', () => {
    expect(hcl.variable.in_use_ecs![0]!.default).toBe(false);
    expect(hcl.variable.in_use_lambda![0]!.default).toBe(false);
    const [policy] = hcl.resource.aws_iam_role_policy!.in_use!;
    expect(policy).toMatchObject({
      count: '${local.in_use_enabled ? 1 : 0}',
      role: '${aws_iam_role.function.id}',
      policy: '${data.aws_iam_policy_document.in_use.json}',
    });
  });
});

describe('Bicep: in-use Reader role', () => {
  const main = parseBicep(readFileSync('infra/azure/main.bicep', 'utf8'));
  const module = parseBicep(readFileSync('infra/azure/modules/in-use-reader.bicep', 'utf8'));

  it('grants Reader (and no other role) to the function identity, named from its principal id', () => {
    const assignment = module.find((d) => d.kind === 'resource')!;
    expect(assignment.type).toBe('Microsoft.Authorization/roleAssignments@2022-04-01');
    expect(module.find((d) => d.kind === 'var' && d.name === 'readerRoleId')?.value).toBe(READER_ROLE);
    expect(at(assignment.value, 'name')).toEqual({ expr: 'guid(resourceGroup().id,principalId,readerRoleId)' });
    expect(at(assignment.value, 'properties.principalType')).toBe('ServicePrincipal');
  });

  it('assigns it on each configured resource group, none by default', () => {
    expect(main.find((d) => d.kind === 'param' && d.name === 'inUseResourceGroups')?.value).toEqual([]);
    const readers = main.find((d) => d.kind === 'module' && d.name === 'inUseReaders');
    expect(readers?.value).toMatchObject({
      for: { item: 'scope', source: 'inUseResourceGroups' },
      body: { scope: { expr: 'resourceGroup(scope.subscriptionId,scope.resourceGroup)' } },
    });
  });
});

describe('Kubernetes: the in-use ClusterRole', () => {
  let fake: FakeKubernetes;
  let dir: string;
  beforeAll(async () => {
    fake = await FakeKubernetes.start();
    dir = mkdtempSync(join(tmpdir(), 'regprune-rbac-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('allows get and list on every resource the source lists, and nothing more', async () => {
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, fake.kubeconfig());
    await kubernetesSource({ kind: 'kubernetes', name: 'k', kubeconfig }).read(new AbortController().signal);
    const GROUP: Record<string, string> = { pods: '', replicationcontrollers: '', jobs: 'batch', cronjobs: 'batch' };
    const listed = [
      ...new Set(fake.requests.map((request) => `${GROUP[request.resource] ?? 'apps'}/${request.resource}`)),
    ];

    const documents = parseAllDocuments(readFileSync('infra/k8s/rbac.yaml', 'utf8')).map((doc) => doc.toJS());
    const role = documents.find((doc) => doc.kind === 'ClusterRole') as {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const allowed = role.rules.flatMap((rule) =>
      rule.apiGroups.flatMap((group) => rule.resources.map((resource) => `${group}/${resource}`)),
    );
    expect(allowed.sort()).toEqual(listed.sort());
    expect(new Set(role.rules.flatMap((rule) => rule.verbs))).toEqual(new Set(['get', 'list']));
    const binding = documents.find((doc) => doc.kind === 'ClusterRoleBinding') as { roleRef: { name: string } };
    expect(binding.roleRef.name).toBe('regprune-in-use-reader');
  });
});
