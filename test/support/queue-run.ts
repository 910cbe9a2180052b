/** What the work-queue tests share: a recording queue, and hosted runs over memory registries. */
import { parseConfig } from '../../lib/config/load.js';
import type { Config } from '../../lib/config/schema.js';
import type { RunLock } from '../../lib/lock/lock.js';
import { silentLogger } from '../../lib/log.js';
import type { Image } from '../../lib/model.js';
import type { WorkMessage } from '../../lib/queue/message.js';
import type { WorkerRun } from '../../lib/queue/worker.js';
import type { SendOptions, WorkQueue } from '../../lib/queue/work-queue.js';
import { runHosted, type HostedRunResult } from '../../lib/run/hosted.js';
import { scopeRun } from '../../lib/run/request.js';
import { daysAgo, image, NOW, TWO_REGISTRIES_CONFIG } from './builders.js';
import { MemoryProvider } from './memory-provider.js';
import { MemoryLock } from './memory-state.js';

/** A WorkQueue that keeps what was sent, in order. */
export class RecordingQueue implements WorkQueue {
  readonly location = 'memory-queue';
  readonly sent: { message: WorkMessage; options: SendOptions }[] = [];
  failing = false;

  async send(message: WorkMessage, options: SendOptions = {}): Promise<void> {
    if (this.failing) throw new Error('queue unreachable');
    this.sent.push({ message, options });
  }

  /** Takes the oldest message off the queue. */
  take(): WorkMessage {
    const next = this.sent.shift();
    if (!next) throw new Error('the queue is empty');
    return next.message;
  }
}

// One repository at a time: the budget below is counted in repositories, which only holds when
// each starts after the one before it finished (the default prunes 8 side by side).
export const QUEUE_CONFIG: Config = parseConfig({
  ...TWO_REGISTRIES_CONFIG,
  registries: TWO_REGISTRIES_CONFIG.registries.map((registry) => ({ ...registry, repositoryConcurrency: 1 })),
});

/** Three builds per repository: keep 1 with `latest` pinned deletes the oldest two. */
function builds(prefix: string): Image[] {
  return [
    image({ name: `${prefix}-3`, tags: ['latest', '3'], pushedAt: daysAgo(1) }),
    image({ name: `${prefix}-2`, tags: ['2'], pushedAt: daysAgo(2) }),
    image({ name: `${prefix}-1`, tags: ['1'], pushedAt: daysAgo(3) }),
  ];
}

/** Memory registries `first` and `second`, each with `repositories` repositories of three builds. */
export function memoryRegistries(repositories = 2): Map<string, MemoryProvider> {
  const content = Object.fromEntries(
    Array.from({ length: repositories }, (_, i) => [`app/r${i}`, builds(`r${i}`)] as const),
  );
  return new Map(
    QUEUE_CONFIG.registries.map(({ name }) => [name, new MemoryProvider({ name, repositories: content })]),
  );
}

export interface HostedRunner {
  readonly run: (input: WorkerRun) => Promise<HostedRunResult>;
  /** Repositories with deletions each run may get through before its budget is used up (`Infinity`: no limit). */
  repositoriesPerRun: number;
  lock: RunLock;
}

/**
 * The hosted run a worker calls, over `registries`: each run's budget lets it prune
 * `repositoriesPerRun` repositories that have deletions, then reports the rest as left for the next run.
 */
export function hostedRunner(registries: Map<string, MemoryProvider>, lock: RunLock = new MemoryLock()): HostedRunner {
  const runner: HostedRunner = {
    repositoriesPerRun: Number.POSITIVE_INFINITY,
    lock,
    run: (input) => {
      let done = 0;
      return runHosted({
        trigger: input.trigger,
        loadConfig: async () => QUEUE_CONFIG,
        scope: (config) => scopeRun(config, input.request),
        now: NOW,
        log: silentLogger,
        lock: runner.lock,
        // Asked at each listed name and before each repository. Deleting is what takes time: the
        // budget runs out once `repositoriesPerRun` repositories deleted something (a repository
        // already pruned costs a listing only; the fair cursor of issue 12 is not assumed).
        remainingMs: () => (done < runner.repositoriesPerRun ? 3_600_000 : 0),
        providerFor: async (registry) => {
          const provider = registries.get(registry.name);
          if (!provider) throw new Error(`no memory registry ${registry.name}`);
          return provider;
        },
        onProgress: (event) => {
          if (event.kind === 'repository' && event.deleted > 0) done += 1;
          input.onProgress?.(event);
        },
      });
    },
  };
  return runner;
}
