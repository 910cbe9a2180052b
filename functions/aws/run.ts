/**
 * What both Lambda handlers share: load and validate the config, narrow the run by the request,
 * run `prune()` within the invocation's time budget, and publish the metrics.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFromSetting } from '../../lib/config/load.js';
import type { Config } from '../../lib/config/schema.js';
import { ConfigError } from '../../lib/errors.js';
import { streamLogger, type Logger } from '../../lib/log.js';
import { publishAwsMetrics } from '../../lib/metrics/aws.js';
import { prune } from '../../lib/prune.js';
import type { Report } from '../../lib/report/types.js';
import { scopeRun } from '../../lib/run-request.js';

/** The part of the Lambda context a run reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

/** A config file shipped inside the bundle, used when REGPRUNE_CONFIG is not set. */
export function bundledConfigPath(env: NodeJS.ProcessEnv = process.env): string {
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

export interface AwsRunOptions {
  /** The untrusted request (schedule input or HTTP body), already JSON-parsed. */
  readonly request: unknown;
  readonly context: LambdaContext;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
}

/**
 * One run: throws ConfigError or UsageError before any registry call; otherwise returns the
 * report (per-image failures inside it) after writing its metrics as EMF to stdout.
 */
export async function runOnAws(options: AwsRunOptions): Promise<Report> {
  const now = new Date();
  const log = options.log ?? streamLogger();
  const config = await loadAwsConfig(options.env);
  const scope = scopeRun(config, options.request);
  const report = await prune({
    config,
    now,
    ...(options.env ? { env: options.env } : {}),
    dryRun: scope.dryRun,
    ...(scope.registries ? { registries: scope.registries } : {}),
    ...(scope.repositories ? { repositories: scope.repositories } : {}),
    remainingMs: () => options.context.getRemainingTimeInMillis(),
    log,
  });
  publishAwsMetrics(report);
  const { totals } = report;
  log.info('run finished', {
    dryRun: report.dryRun,
    complete: report.complete,
    repositories: totals.repositories,
    deleted: totals.deleted,
    failed: totals.failed,
    pending: totals.pending,
    apiCalls: totals.apiCalls,
  });
  return report;
}

/** One line per registry that failed as a whole (unreachable, auth); empty when none did. */
export function registryErrors(report: Report): string[] {
  return report.registries.filter((r) => r.error !== undefined).map((r) => `${r.name}: ${r.error}`);
}
