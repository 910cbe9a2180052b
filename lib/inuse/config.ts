/**
 * The `inUse:` section of the config: where regprune reads what runs (docs/design.md, "In-use
 * protection"). Each source is read-only and optional; credentials come from the host (kubeconfig
 * or in-cluster service account, IAM role, managed identity), never from this file.
 */
import { z } from 'zod';

const name = z
  .string()
  .min(1, { error: 'expected a non-empty name' })
  .regex(/^[A-Za-z0-9._-]+$/, { error: 'expected letters, digits, . _ or -' });

const common = {
  name: name.describe('Your name for this source, used in reports ("prod-cluster")'),
  registries: z
    .array(name)
    .min(1, { error: 'expected at least one registry name, or leave registries out for all of them' })
    .optional()
    .describe('The registries (by config name) this source can protect; default: all of them'),
  onSourceError: z
    .enum(['fail', 'warn'], { error: 'expected "fail" or "warn"' })
    .optional()
    .describe('fail (default): delete nothing in those registries when the source cannot be read; warn: go on'),
  timeout: z
    .number({ error: 'expected a number of seconds' })
    .int({ error: 'expected a whole number of seconds' })
    .min(1, { error: 'expected 1 to 600 seconds' })
    .max(600, { error: 'expected 1 to 600 seconds' })
    .optional()
    .describe('Seconds the source may take to read (default 60); past it, it counts as unreadable'),
};

const endpoint = z
  .string()
  .refine((text) => URL.canParse(text) && /^https?:\/\//.test(text), {
    error: 'expected an http:// or https:// URL like https://ecs.eu-west-1.amazonaws.com',
    abort: true,
  })
  .refine(
    (text) => {
      const url = new URL(text);
      return url.username === '' && url.password === '';
    },
    { error: 'expected a URL without user:password@' },
  );

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'expected an AWS region like eu-west-1' });

const KubernetesSourceSchema = z
  .object({
    kind: z.literal('kubernetes'),
    ...common,
    kubeconfig: z
      .string()
      .min(1)
      .optional()
      .describe('Path of a kubeconfig; default: in-cluster when running in a pod, else $KUBECONFIG / ~/.kube/config'),
    context: z.string().min(1).optional().describe('The kubeconfig context to use (default: its current context)'),
    namespaces: z
      .array(
        z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
          error: 'expected a namespace name: lower-case letters, digits and -, like team-a',
        }),
      )
      .min(1)
      .optional()
      .describe('Only these namespaces (default: all; needs cluster-wide list)'),
  })
  .strict();

const EcsSourceSchema = z
  .object({
    kind: z.literal('ecs'),
    ...common,
    region,
    clusters: z.array(z.string().min(1)).min(1).optional().describe('Cluster names or ARNs (default: all)'),
    endpoint: endpoint.optional().describe('Override the ECS API URL (VPC endpoint, local test server)'),
  })
  .strict();

const LambdaSourceSchema = z
  .object({
    kind: z.literal('lambda'),
    ...common,
    region,
    endpoint: endpoint.optional().describe('Override the Lambda API URL (VPC endpoint, local test server)'),
  })
  .strict();

const ContainerAppsSourceSchema = z
  .object({
    kind: z.literal('containerApps'),
    ...common,
    subscriptionId: z
      .string()
      .regex(/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i, { error: 'expected a subscription id (a GUID)' }),
    resourceGroup: z.string().min(1).optional().describe('Only this resource group (default: the subscription)'),
    endpoint: endpoint
      .optional()
      .describe('Override the ARM URL (sovereign clouds: https://management.usgovcloudapi.net)'),
  })
  .strict();

export const InUseSourceSchema = z.discriminatedUnion(
  'kind',
  [KubernetesSourceSchema, EcsSourceSchema, LambdaSourceSchema, ContainerAppsSourceSchema],
  { error: 'expected kind "kubernetes", "ecs", "lambda" or "containerApps"' },
);

export const InUseSchema = z
  .array(InUseSourceSchema)
  .describe('Where images in use are read: such images are never deleted (reason in-use)');

export type InUseSourceConfig = z.infer<typeof InUseSourceSchema>;

/** Problems a valid-looking `inUse:` still has: duplicate names, unknown registry names. */
export function inUseIssues(
  sources: readonly InUseSourceConfig[] | undefined,
  registryNames: readonly string[],
): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const seen = new Set<string>();
  (sources ?? []).forEach((source, index) => {
    if (seen.has(source.name)) {
      issues.push({ path: ['inUse', index, 'name'], message: `duplicate source name "${source.name}"` });
    }
    seen.add(source.name);
    (source.registries ?? []).forEach((registry, at) => {
      if (!registryNames.includes(registry)) {
        issues.push({
          path: ['inUse', index, 'registries', at],
          message: `no registry named "${registry}" in registries; use one of: ${registryNames.join(', ')}`,
        });
      }
    });
  });
  return issues;
}
