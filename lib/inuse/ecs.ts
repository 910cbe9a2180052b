/**
 * Amazon ECS as a usage source: the images of the task definitions that active services run or
 * are rolling out (deployments, and the task sets of CODE_DEPLOY / EXTERNAL services), and of the
 * tasks running now with the digest ECS resolved, across the configured clusters or all of them.
 * A scheduled task (EventBridge) is seen only while it runs: docs/design.md says so
 * (docs/design.md, "In-use protection"). Read-only: List* and Describe* calls.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  type ECSClientConfig,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { awsSourceError } from './aws-errors.js';
import type { InUseSourceConfig } from './config.js';
import type { ImageUse, UsageSource } from './types.js';

type EcsSourceConfig = Extract<InUseSourceConfig, { kind: 'ecs' }>;

/** DescribeServices takes at most 10 services, DescribeTasks at most 100 tasks (the API reference). */
const SERVICES_PER_DESCRIBE = 10;
const TASKS_PER_DESCRIBE = 100;

export interface EcsSourceOptions {
  /** Extra client settings (tests: credentials); region and endpoint come from the config. */
  readonly client?: Partial<ECSClientConfig>;
}

/** A usage source over ECS in one region. */
export function ecsSource(config: EcsSourceConfig, options: EcsSourceOptions = {}): UsageSource {
  let calls = 0;
  return {
    name: config.name,
    kind: 'ecs',
    calls: () => calls,
    async read(signal) {
      const client = new ECSClient({
        region: config.region,
        ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
        ...options.client,
      });
      // Every call counted, and every call ends with the run's stop or the source's timeout.
      const send: ECSClient['send'] = ((command: Parameters<ECSClient['send']>[0]) => {
        calls++;
        return client.send(command, { abortSignal: signal });
      }) as ECSClient['send'];
      try {
        const uses: ImageUse[] = [];
        const clusters =
          config.clusters ?? (await listAll((nextToken) => send(new ListClustersCommand({ nextToken }))));
        const taskDefinitions = new Map<string, Promise<Array<{ name: string; image: string }>>>();
        const imagesOf = (arn: string) => {
          let images = taskDefinitions.get(arn);
          if (images === undefined) {
            images = send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).then((answer) =>
              (answer.taskDefinition?.containerDefinitions ?? []).flatMap((container) =>
                container.image ? [{ name: container.name ?? '?', image: container.image }] : [],
              ),
            );
            taskDefinitions.set(arn, images);
          }
          return images;
        };
        for (const cluster of clusters) {
          const clusterName = cluster.split('/').pop() ?? cluster;
          const services = await listAll((nextToken) => send(new ListServicesCommand({ cluster, nextToken })));
          for (let at = 0; at < services.length; at += SERVICES_PER_DESCRIBE) {
            const batch = services.slice(at, at + SERVICES_PER_DESCRIBE);
            const answer = await send(new DescribeServicesCommand({ cluster, services: batch }));
            if ((answer.failures ?? []).length > 0) throw new Error(describeFailures(answer.failures ?? []));
            for (const service of answer.services ?? []) {
              // Every deployment still in the service (primary, and one being rolled out or back).
              const arns = new Set(
                (service.deployments ?? [])
                  .filter((deployment) => deployment.status !== 'INACTIVE')
                  .map((deployment) => deployment.taskDefinition ?? ''),
              );
              if (service.taskDefinition) arns.add(service.taskDefinition);
              for (const taskSet of service.taskSets ?? [])
                if (taskSet.taskDefinition) arns.add(taskSet.taskDefinition);
              for (const arn of arns) {
                if (arn === '') continue;
                for (const { image } of await imagesOf(arn)) {
                  uses.push({
                    reference: image,
                    user: `${config.name}: service ${clusterName}/${service.serviceName}`,
                  });
                }
              }
            }
          }
          const tasks = await listAll((nextToken) =>
            send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', nextToken })),
          );
          for (let at = 0; at < tasks.length; at += TASKS_PER_DESCRIBE) {
            const answer = await send(
              new DescribeTasksCommand({ cluster, tasks: tasks.slice(at, at + TASKS_PER_DESCRIBE) }),
            );
            for (const task of answer.tasks ?? []) {
              const id = task.taskArn?.split('/').pop() ?? '?';
              for (const container of task.containers ?? []) {
                if (!container.image) continue;
                uses.push({
                  reference: container.image,
                  resolvedDigest: container.imageDigest ?? null,
                  user: `${config.name}: task ${clusterName}/${id} (${task.group ?? 'standalone'})`,
                });
              }
            }
          }
        }
        return uses;
      } catch (error) {
        throw awsSourceError(error, 'ecs');
      } finally {
        client.destroy();
      }
    },
  };
}

/** Every ARN of a paged List* call. */
async function listAll(
  page: (nextToken: string | undefined) => Promise<{
    clusterArns?: string[];
    serviceArns?: string[];
    taskArns?: string[];
    nextToken?: string;
  }>,
): Promise<string[]> {
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const answer = await page(token);
    arns.push(...(answer.clusterArns ?? answer.serviceArns ?? answer.taskArns ?? []));
    token = answer.nextToken;
  } while (token !== undefined);
  return arns;
}

function describeFailures(failures: ReadonlyArray<{ arn?: string; reason?: string }>): string {
  const named = failures.map((failure) => `${failure.arn ?? '?'} (${failure.reason ?? '?'})`);
  return `ECS could not describe ${named.join(', ')}`;
}
