/**
 * What AWS supplies to the hosted run (lib/run/hosted.ts): the config from REGPRUNE_CONFIG or the
 * bundled file, the run lock and history on the S3 state store (REGPRUNE_STATE_BUCKET, created by
 * infra/aws/state.tf), the invocation's remaining time as the budget, and EMF metrics on stdout.
 * The lock is what keeps the Lambda and a CLI run sharing the bucket apart; reserved concurrency 1
 * only keeps two invocations of the function apart.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFromSetting } from '../../lib/config/load.js';
import type { Config } from '../../lib/config/schema.js';
import { ConfigError } from '../../lib/errors.js';
import { StateHistoryStore } from '../../lib/history/state.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { streamLogger, type Logger } from '../../lib/log.js';
import { publishAwsMetrics } from '../../lib/metrics/aws.js';
import type { RunCaller } from '../../lib/run/caller.js';
import { runHosted, type HostedRunResult } from '../../lib/run/hosted.js';
import type { PruneOptions } from '../../lib/run/prune.js';
import type { RunProgressListener } from '../../lib/run/progress.js';
import { scopeRun } from '../../lib/run/request.js';
import { withSignalStop, type SignalSource } from '../../lib/run/stop.js';
import { awsStateStoreFromEnv } from '../../lib/state/host-aws.js';
import type { StateStore } from '../../lib/state/store.js';

/** The part of the Lambda context a run reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

/** What a run takes from the process; tests replace the provider. */
export interface AwsDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  readonly log: Logger;
  readonly providerFor?: PruneOptions['providerFor'];
  /** Where the run lock and history live; default `awsStateStoreFromEnv(env)` (the S3 bucket). */
  readonly state?: StateStore;
  /** SIGTERM (the runtime shutting down) stops a run gracefully; absent = not listened to. */
  readonly signals?: SignalSource;
}

/** The real process: its environment, clock and stdout/stderr. */
export function processDeps(): AwsDeps {
  return { env: process.env, now: () => new Date(), log: streamLogger(), signals: process };
}

/** A config file shipped inside the bundle, used when REGPRUNE_CONFIG is not set. */
function bundledConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.LAMBDA_TASK_ROOT ?? process.cwd(), 'regprune.yaml');
}

/** The validated config: REGPRUNE_CONFIG (inline YAML/JSON or a path), else the bundled file. */
export async function loadAwsConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const bundled = bundledConfigPath(env);
  if (!env.REGPRUNE_CONFIG?.trim() && !existsSync(bundled)) {
    throw new ConfigError(
      `no config: REGPRUNE_CONFIG is empty and no ${bundled} is bundled; set the Terraform variable "config", ` +
        'or bundle a file with npm run bundle:aws -- --config regprune.yaml',
    );
  }
  return loadConfigFromSetting(env.REGPRUNE_CONFIG, bundled);
}

export interface AwsTrigger {
  readonly trigger: 'schedule' | 'http';
  /** The untrusted request (schedule input or HTTP body), already JSON-parsed. */
  readonly request: unknown;
  readonly context: LambdaContext;
  /** Who started the run (the schedule, the IAM signer of a function URL request); recorded in the report. */
  readonly caller?: RunCaller;
  /** Told how far the run has come (an async run's status record, lib/queue). */
  readonly onProgress?: RunProgressListener;
}

/** One run on AWS: throws ConfigError or UsageError before any registry call. */
export async function runOnAws(input: AwsTrigger, deps: AwsDeps): Promise<HostedRunResult> {
  const store = deps.state ?? awsStateStoreFromEnv(deps.env);
  return withSignalStop({ signals: deps.signals, log: deps.log }, (signal) =>
    runHosted({
      trigger: input.trigger,
      loadConfig: () => loadAwsConfig(deps.env),
      scope: (config) => scopeRun(config, input.request),
      now: deps.now(),
      log: deps.log,
      remainingMs: () => input.context.getRemainingTimeInMillis(),
      lock: new StateLeaseLock({ store, log: deps.log }),
      history: new StateHistoryStore({ store }),
      publishMetrics: (points) => publishAwsMetrics(points),
      env: deps.env,
      ...(input.caller ? { caller: input.caller } : {}),
      ...(deps.providerFor ? { providerFor: deps.providerFor } : {}),
      ...(signal ? { signal } : {}),
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    }),
  );
}
