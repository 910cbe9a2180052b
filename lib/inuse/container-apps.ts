/**
 * Azure Container Apps as a usage source: the images of every active revision of every container
 * app (several revisions run side by side in multiple-revision mode), of the app's current template
 * (what the next revision runs), and of Container Apps jobs (what their next execution runs), in a
 * subscription or one resource group (docs/design.md, "In-use protection"). Read-only: list calls
 * through ARM, which needs the Reader role on that scope.
 */
import type { Agent } from 'node:https';
import { type Container, ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import type { TokenCredential } from '@azure/identity';
import type { InUseSourceConfig } from './config.js';
import type { ImageUse, UsageSource } from './types.js';

type ContainerAppsSourceConfig = Extract<InUseSourceConfig, { kind: 'containerApps' }>;

export interface ContainerAppsSourceOptions {
  /** Default: `DefaultAzureCredential` (the function's managed identity, or az login). */
  readonly credential?: TokenCredential;
  /** Tests: an agent that trusts the fake's certificate. */
  readonly agent?: Agent;
}

const RESOURCE_GROUP = /\/resourceGroups\/([^/]+)\//i;

/** A usage source over the container apps and jobs of one subscription (or resource group). */
export function containerAppsSource(
  config: ContainerAppsSourceConfig,
  options: ContainerAppsSourceOptions = {},
): UsageSource {
  let calls = 0;
  return {
    name: config.name,
    kind: 'containerApps',
    calls: () => calls,
    async read(signal) {
      try {
        return await readApps(signal);
      } catch (error) {
        throw armError(error);
      }
    },
  };

  async function readApps(signal: AbortSignal): Promise<ImageUse[]> {
    const credential = options.credential ?? (await defaultCredential());
    const client = new ContainerAppsAPIClient(credential, config.subscriptionId, {
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
      // Count every request the SDK sends, pages and retries included.
      additionalPolicies: [
        {
          position: 'perRetry',
          policy: {
            name: 'regprune-count-calls',
            sendRequest: (request, next) => {
              calls++;
              return next(request);
            },
          },
        },
      ],
    });
    const uses: ImageUse[] = [];
    const add = (containers: readonly Container[] | undefined, user: string) => {
      for (const container of containers ?? []) if (container.image) uses.push({ reference: container.image, user });
    };
    const apps =
      config.resourceGroup !== undefined
        ? client.containerApps.listByResourceGroup(config.resourceGroup, { abortSignal: signal })
        : client.containerApps.listBySubscription({ abortSignal: signal });
    for await (const app of apps) {
      const name = app.name ?? '?';
      const group = config.resourceGroup ?? RESOURCE_GROUP.exec(app.id ?? '')?.[1];
      add(app.template?.initContainers, `${config.name}: app ${name} (template)`);
      add(app.template?.containers, `${config.name}: app ${name} (template)`);
      if (group === undefined) throw new Error(`container app "${name}" has no resource group in its id`);
      for await (const revision of client.containerAppsRevisions.listRevisions(group, name, {
        abortSignal: signal,
      })) {
        if (revision.active !== true) continue;
        const user = `${config.name}: app ${name} revision ${revision.name ?? '?'}`;
        add(revision.template?.initContainers, user);
        add(revision.template?.containers, user);
      }
    }
    const jobs =
      config.resourceGroup !== undefined
        ? client.jobs.listByResourceGroup(config.resourceGroup, { abortSignal: signal })
        : client.jobs.listBySubscription({ abortSignal: signal });
    for await (const job of jobs) {
      add(job.template?.initContainers, `${config.name}: job ${job.name ?? '?'}`);
      add(job.template?.containers, `${config.name}: job ${job.name ?? '?'}`);
    }
    return uses;
  }
}

/** ARM's status and error code, with what to grant when it is a permission problem. */
function armError(error: unknown): unknown {
  // A RestError (from @azure/core-rest-pipeline, which this file does not import at run time).
  if (!(error instanceof Error) || error.name !== 'RestError') return error;
  const { statusCode, code: errorCode } = error as Error & { statusCode?: number; code?: string };
  if (statusCode === undefined) return error;
  const code = errorCode ? ` ${errorCode}` : '';
  const hint =
    statusCode === 401 || statusCode === 403
      ? '; grant the identity regprune runs as the Reader role on that subscription or resource group'
      : '';
  return new Error(`Azure Resource Manager answered ${statusCode}${code}: ${error.message}${hint}`);
}

/** `@azure/identity` is loaded only when a Container Apps source is configured: it is big. */
async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
