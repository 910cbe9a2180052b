/** The real usage source for a config entry; each SDK is loaded only when a source of its kind is configured. */
import type { InUseSourceConfig } from './config.js';
import type { ImageUse, UsageSource } from './types.js';

/** A source whose SDK module is imported on first read (cold start stays small without `inUse:`). */
export function usageSourceFor(config: InUseSourceConfig): UsageSource {
  let inner: UsageSource | undefined;
  const load = async (): Promise<UsageSource> => {
    switch (config.kind) {
      case 'kubernetes':
        return (await import('./kubernetes.js')).kubernetesSource(config);
      case 'ecs':
        return (await import('./ecs.js')).ecsSource(config);
      case 'lambda':
        return (await import('./lambda.js')).lambdaSource(config);
      case 'containerApps':
        return (await import('./container-apps.js')).containerAppsSource(config);
    }
  };
  return {
    name: config.name,
    kind: config.kind,
    calls: () => inner?.calls() ?? 0,
    async read(signal): Promise<ImageUse[]> {
      inner ??= await load();
      return inner.read(signal);
    },
  };
}
