/** `regprune plan` and `regprune prune`: load, check the scope, run the pipeline, print. */
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { compilePattern } from '../config/pattern.js';
import { describeError, UsageError } from '../errors.js';
import { exitCodeFor, prune } from '../prune.js';
import { formatPlanDetail } from '../report/plan-detail.js';
import { formatSummary } from '../report/summary.js';
import type { Invocation } from './args.js';
import type { CliIo } from './io.js';
import { progressLogger } from './progress.js';

type RunInvocation = Extract<Invocation, { kind: 'run' }>;

/** Rejects a --registry or --repository that cannot select anything, before any registry call. */
function checkScope(config: Config, invocation: RunInvocation): void {
  for (const name of invocation.registries ?? []) {
    if (!config.registries.some((registry) => registry.name === name)) {
      const names = config.registries.map((registry) => registry.name).join(', ');
      throw new UsageError(`--registry ${name}: no registry of that name in ${invocation.configPath}; configured: ${names}`);
    }
  }
  if (invocation.repository !== undefined) {
    const compiled = compilePattern(invocation.repository);
    if (!compiled.ok) throw new UsageError(`--repository: ${compiled.error}`);
  }
}

/** Runs plan or prune and returns the exit code. */
export async function runCommand(invocation: RunInvocation, io: CliIo): Promise<number> {
  const config = await loadConfigFile(invocation.configPath);
  checkScope(config, invocation);
  const report = await prune({
    config,
    now: io.clock(),
    dryRun: invocation.dryRun ?? config.dryRun,
    ...(invocation.registries ? { registries: invocation.registries } : {}),
    ...(invocation.repository !== undefined ? { repositories: invocation.repository } : {}),
    ...(io.providerFor ? { providerFor: io.providerFor } : {}),
    log: progressLogger(io),
  });
  const json = JSON.stringify(report, null, 2) + '\n';
  let code = exitCodeFor(report);
  if (invocation.reportPath !== undefined) {
    try {
      await io.writeFile(invocation.reportPath, json);
    } catch (error) {
      io.stderr.write(`regprune: could not write the report to ${invocation.reportPath}: ${describeError(error)}\n`);
      code = 1;
    }
  }
  if (invocation.json) io.stdout.write(json);
  else io.stdout.write((invocation.command === 'plan' ? formatPlanDetail(report) : '') + formatSummary(report));
  return code;
}
