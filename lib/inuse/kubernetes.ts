/**
 * Kubernetes as a usage source: the images of pods that run or are about to (with the digest the
 * kubelet resolved, where the pod status says), and of the pod templates that will run at the next
 * rollout or schedule: Deployments, StatefulSets, DaemonSets, ReplicaSets with replicas, unfinished
 * Jobs and CronJobs (docs/design.md, "In-use protection"). Read-only: list calls only, paged with
 * `limit` and `continue`.
 */
import { existsSync } from 'node:fs';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Container,
  type V1ContainerStatus,
  type V1ObjectMeta,
  type V1PodSpec,
} from '@kubernetes/client-node';
import type { InUseSourceConfig } from './config.js';
import type { ImageUse, UsageSource } from './types.js';

type KubernetesSourceConfig = Extract<InUseSourceConfig, { kind: 'kubernetes' }>;

/** One page of any list call: items and the token of the next page. */
interface Page<T> {
  readonly items: T[];
  readonly metadata?: { readonly _continue?: string } | undefined;
}
type ListCall<T> = (page: { limit: number; _continue?: string }) => Promise<Page<T>>;

const PAGE_SIZE = 500;
const MAX_LIST_ATTEMPTS = 3;
const DIGEST_AFTER_AT = /@(sha256:[a-f0-9]{64})$/;

export interface KubernetesSourceOptions {
  /** Items per list page (default 500). */
  readonly pageSize?: number;
  /** A loaded kubeconfig (tests); default: from the config's path, in-cluster, or the default locations. */
  readonly kubeConfig?: KubeConfig;
  readonly env?: NodeJS.ProcessEnv;
}

/** Loads the cluster's credentials the way kubectl would, or the pod's service account in-cluster. */
export function loadKubeConfig(config: KubernetesSourceConfig, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig !== undefined && !existsSync(config.kubeconfig)) {
    throw new Error(
      `kubeconfig ${config.kubeconfig} not found; fix the source's kubeconfig path, or leave it out to use ` +
        'the in-cluster service account or ~/.kube/config',
    );
  }
  if (config.kubeconfig !== undefined) kubeConfig.loadFromFile(config.kubeconfig);
  else if (env.KUBERNETES_SERVICE_HOST !== undefined) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  if (config.context !== undefined) kubeConfig.setCurrentContext(config.context);
  if (kubeConfig.getCurrentCluster() === null) {
    throw new Error(
      'no cluster in the kubeconfig' +
        (config.context !== undefined ? ` for context "${config.context}"` : '') +
        '; set kubeconfig (and context) on the source, or run regprune inside the cluster',
    );
  }
  return kubeConfig;
}

/** A usage source over one cluster (all namespaces, or the configured ones). */
export function kubernetesSource(config: KubernetesSourceConfig, options: KubernetesSourceOptions = {}): UsageSource {
  let calls = 0;
  return {
    name: config.name,
    kind: 'kubernetes',
    calls: () => calls,
    async read(signal) {
      try {
        return await readCluster(signal);
      } catch (error) {
        throw error instanceof ApiException ? new Error(describeApiError(error)) : error;
      }
    },
  };

  async function readCluster(signal: AbortSignal): Promise<ImageUse[]> {
    const kubeConfig = options.kubeConfig ?? loadKubeConfig(config, options.env);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const batch = kubeConfig.makeApiClient(BatchV1Api);
    const uses: ImageUse[] = [];
    const who = (kind: string, metadata: V1ObjectMeta | undefined) =>
      `${config.name}: ${metadata?.namespace ?? '?'}/${kind}/${metadata?.name ?? '?'}`;
    const scopes: Array<string | null> = config.namespaces ?? [null];
    const limit = options.pageSize ?? PAGE_SIZE;
    // A continue token outlives etcd's compaction for about five minutes; a list that takes
    // longer is answered 410 Expired and is started again, as the API reference advises.
    const paged = async <T>(list: ListCall<T>): Promise<T[]> => {
      for (let attempt = 1; ; attempt++) {
        const items: T[] = [];
        let token: string | undefined;
        try {
          do {
            if (signal.aborted) throw signal.reason;
            calls++;
            const page = await list({ limit, ...(token !== undefined ? { _continue: token } : {}) });
            items.push(...page.items);
            token = page.metadata?._continue || undefined;
          } while (token !== undefined);
          return items;
        } catch (error) {
          if (!(error instanceof ApiException && error.code === 410) || attempt >= MAX_LIST_ATTEMPTS) throw error;
        }
      }
    };
    const all = async <T>(cluster: ListCall<T>, namespaced: (namespace: string) => ListCall<T>): Promise<T[]> => {
      const items: T[] = [];
      for (const namespace of scopes) {
        const list = namespace === null ? cluster : namespaced(namespace);
        items.push(...(await paged(list)));
      }
      return items;
    };

    const pods = await all(
      (p) => core.listPodForAllNamespaces(p),
      (namespace) => (p) => core.listNamespacedPod({ namespace, ...p }),
    );
    for (const pod of pods) {
      // A finished pod runs nothing; a pending one is about to pull.
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const statuses = [
        ...(pod.status?.containerStatuses ?? []),
        ...(pod.status?.initContainerStatuses ?? []),
        ...(pod.status?.ephemeralContainerStatuses ?? []),
      ];
      uses.push(...fromSpec(pod.spec, who('Pod', pod.metadata), statuses));
    }
    const templates: Array<[string, ListCall<TemplateOwner>, (namespace: string) => ListCall<TemplateOwner>]> = [
      [
        'ReplicationController',
        (p) => core.listReplicationControllerForAllNamespaces(p),
        (namespace) => (p) => core.listNamespacedReplicationController({ namespace, ...p }),
      ],
      [
        'Deployment',
        (p) => apps.listDeploymentForAllNamespaces(p),
        (namespace) => (p) => apps.listNamespacedDeployment({ namespace, ...p }),
      ],
      [
        'StatefulSet',
        (p) => apps.listStatefulSetForAllNamespaces(p),
        (namespace) => (p) => apps.listNamespacedStatefulSet({ namespace, ...p }),
      ],
      [
        'DaemonSet',
        (p) => apps.listDaemonSetForAllNamespaces(p),
        (namespace) => (p) => apps.listNamespacedDaemonSet({ namespace, ...p }),
      ],
      [
        'ReplicaSet',
        (p) => apps.listReplicaSetForAllNamespaces(p),
        (namespace) => (p) => apps.listNamespacedReplicaSet({ namespace, ...p }),
      ],
    ];
    for (const [kind, cluster, namespaced] of templates) {
      for (const owner of await all(cluster, namespaced)) {
        // An old ReplicaSet scaled to 0 is rollout history, not something that will run; a
        // finished Job runs nothing again.
        if ((kind === 'ReplicaSet' || kind === 'ReplicationController') && (owner.spec?.replicas ?? 1) === 0) continue;
        uses.push(...fromSpec(owner.spec?.template?.spec, who(kind, owner.metadata), []));
      }
    }
    const jobs = await all(
      (p) => batch.listJobForAllNamespaces(p),
      (namespace) => (p) => batch.listNamespacedJob({ namespace, ...p }),
    );
    for (const job of jobs) {
      // A finished Job runs nothing again; its CronJob's template is read below.
      if (job.status?.completionTime !== undefined) continue;
      uses.push(...fromSpec(job.spec?.template?.spec, who('Job', job.metadata), []));
    }
    const cronJobs = await all(
      (p) => batch.listCronJobForAllNamespaces(p),
      (namespace) => (p) => batch.listNamespacedCronJob({ namespace, ...p }),
    );
    for (const cronJob of cronJobs) {
      uses.push(...fromSpec(cronJob.spec?.jobTemplate?.spec?.template?.spec, who('CronJob', cronJob.metadata), []));
    }
    return uses;
  }
}

/** The API's own words (a Status object: reason and message), without the headers and body dump. */
function describeApiError(error: ApiException<unknown>): string {
  const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
  const status = (body ?? {}) as { reason?: string; message?: string };
  const hint =
    error.code === 401 || error.code === 403
      ? '; grant list on pods and workloads (infra/k8s/rbac.yaml) to the identity regprune uses'
      : '';
  const reason = status.reason ? ` ${status.reason}` : '';
  return `Kubernetes API answered ${error.code}${reason}: ${status.message ?? 'no message'}${hint}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** What the workload kinds with a pod template share. */
interface TemplateOwner {
  readonly metadata?: V1ObjectMeta | undefined;
  readonly spec?: { readonly replicas?: number | undefined; readonly template?: { spec?: V1PodSpec } } | undefined;
}

/** The images of a pod spec, each with the digest its container status resolved, where known. */
function fromSpec(spec: V1PodSpec | undefined, user: string, statuses: readonly V1ContainerStatus[]): ImageUse[] {
  if (spec === undefined) return [];
  const containers: Array<Pick<V1Container, 'name' | 'image'>> = [
    ...(spec.initContainers ?? []),
    ...spec.containers,
    ...(spec.ephemeralContainers ?? []),
  ];
  const uses: ImageUse[] = [];
  for (const container of containers) {
    if (container.image === undefined || container.image === '') continue;
    const status = statuses.find((candidate) => candidate.name === container.name);
    // imageID is `registry/repo@sha256:…` (the manifest digest pulled); a bare `sha256:…` is an
    // image id (a config digest) on some runtimes, no use to a registry.
    const resolved = status?.imageID ? (DIGEST_AFTER_AT.exec(status.imageID)?.[1] ?? null) : null;
    uses.push({ reference: container.image, resolvedDigest: resolved, user });
  }
  return uses;
}
