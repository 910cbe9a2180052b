/** `regprune plan` and `regprune prune`: load, check the scope, run the pipeline, print. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { compilePattern } from '../config/pattern.js';
import { describeError, UsageError } from '../errors.js';
import { runHosted } from '../run/hosted.js';
import { exitCodeFor } from '../run/prune.js';
import type { RunScope } from '../run/request.js';
import { formatPlanDetail } from '../report/plan-detail.js';
import { formatSummary } from '../report/summary.js';
import { StateHistoryStore } from '../history/state.js';
import { FileHistoryStore, type HistoryStore } from '../history/store.js';
import type { Logger } from '../log.js';
import type { RunLock } from '../lock/lock.js';
import { StateLeaseLock } from '../lock/state-lease.js';
import { cliStateStore } from '../state/env.js';
import type { StateStore } from '../state/store.js';
import { formatForPath, renderReport } from '../render/output.js';
import { STOP_SIGNALS, stopOnSignals, stoppingMessage, type SignalStop } from '../run/stop.js';
import type { Invocation } from './args.js';
import type { CliIo } from './io.js';
import { progressLogger } from './progress.js';

type RunInvocation = Extract<Invocation, { kind: 'run' }>;

/** The run's scope from the flags; rejects a --registry or --repository that cannot select anything. */
function cliScope(config: Config, invocation: RunInvocation): RunScope {
  for (const name of invocation.registries ?? []) {
    if (!config.registries.some((registry) => registry.name === name)) {
      const names = config.registries.map((registry) => registry.name).join(', ');
      throw new UsageError(
        `--registry ${name}: no registry of that name in ${invocation.configPath}; configured: ${names}`,
      );
    }
  }
  if (invocation.repository !== undefined) {
    const compiled = compilePattern(invocation.repository);
    if (!compiled.ok) throw new UsageError(`--repository: ${compiled.error}`);
  }
  const isReport = invocation.command === 'report';
  return {
    // `regprune report` only plans, and lists every repository so bytes are counted in full.
    dryRun: isReport ? true : (invocation.dryRun ?? config.dryRun),
    ...(isReport ? { accountUnmatched: true } : {}),
    ...(invocation.registries ? { registries: invocation.registries } : {}),
    ...(invocation.repository !== undefined ? { repositories: invocation.repository } : {}),
  };
}

/** Fails with a UsageError when `path` could not be written: a directory, or in a missing or read-only one. */
async function checkWritable(path: string, option: string, options: { createsDirectory: boolean }): Promise<void> {
  const existing = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new UsageError(`${option} ${path}: ${describeError(error)}`);
  });
  if (existing && !existing.isFile())
    throw new UsageError(`${option} ${path}: not a regular file (a directory?); give a file path`);
  const target = existing ? path : dirname(path);
  if (!existing) {
    const parent = await stat(target).catch(() => null);
    if (parent === null && options.createsDirectory) return; // created at the end, as for a new history
    if (parent === null)
      throw new UsageError(`${option} ${path}: directory ${target} does not exist; create it or give another path`);
    if (!parent.isDirectory()) throw new UsageError(`${option} ${path}: ${target} is not a directory`);
  }
  await access(target, constants.W_OK).catch(() => {
    throw new UsageError(`${option} ${path}: ${target} is not writable; give a path you can write`);
  });
}

/**
 * Refuses, before any registry call, the output paths the run could not write at its end: a run
 * must not delete and then fail to say what it did. A --history file whose lines are none of them
 * run records is not a history file (a config given by mistake): appending would damage it.
 */
async function checkOutputs(invocation: RunInvocation): Promise<void> {
  if (invocation.reportPath !== undefined)
    await checkWritable(invocation.reportPath, '--report', { createsDirectory: false });
  if (invocation.historyPath !== undefined) {
    await checkWritable(invocation.historyPath, '--history', { createsDirectory: true });
    const read = await new FileHistoryStore(invocation.historyPath).read();
    if (read.entries.length === 0 && read.skipped.length > 0) {
      throw new UsageError(
        `--history ${invocation.historyPath}: not a regprune history file (no line is a run record); give a new file ` +
          `or an existing history`,
      );
    }
  }
}

/**
 * The run lock and history on the state store (`--state`, REGPRUNE_STATE, the functions' store,
 * else the cache directory): so CLI runs exclude each other, and the functions when they share it.
 * `--history FILE` keeps the history in that file instead. `plan` is a preview: it records no
 * history unless --history asks, and, like every dry run, takes no lock, so it needs no store.
 * docs/design.md, "Run lock" and "State store".
 */
async function stateOf(
  invocation: RunInvocation,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<{ state: StateStore; lock?: RunLock; history?: HistoryStore }> {
  const fileHistory = invocation.historyPath !== undefined ? new FileHistoryStore(invocation.historyPath) : undefined;
  // The store also holds the write-ahead journal, which a plan reports on (docs/design.md, "Crash").
  const store = await cliStateStore(env, invocation.statePath);
  if (invocation.command === 'plan') return { state: store, ...(fileHistory ? { history: fileHistory } : {}) };
  return {
    state: store,
    lock: new StateLeaseLock({ store, log, reclaimDeadOwners: true }),
    history: fileHistory ?? new StateHistoryStore({ store }),
  };
}

/**
 * Ctrl-C (SIGINT) or SIGTERM: say "stopping", let the run end gracefully (docs/design.md, "Crash
 * and stop"); a second signal ends the process at once with the signal's code.
 */
function listenForStop(io: CliIo): SignalStop | null {
  if (!io.signals) return null;
  return stopOnSignals(io.signals, {
    onStop: (signal) => io.stderr.write(`regprune: ${stoppingMessage(signal)}\n`),
    onSecondSignal: (signal) => {
      io.stderr.write(`regprune: ${signal} again: ending at once; the deletions in flight may not have finished\n`);
      (io.exit ?? ((code: number) => process.exit(code)))(STOP_SIGNALS[signal]);
    },
  });
}

/** Runs plan or prune and returns the exit code: 130 (SIGINT) or 143 (SIGTERM) after a graceful stop. */
export async function runCommand(invocation: RunInvocation, io: CliIo): Promise<number> {
  await checkOutputs(invocation);
  const stop = listenForStop(io);
  try {
    const code = await runAndPrint(invocation, io, stop?.signal);
    const signal = stop?.stoppedBy() ?? null;
    return signal === null ? code : STOP_SIGNALS[signal];
  } finally {
    stop?.dispose();
  }
}

async function runAndPrint(invocation: RunInvocation, io: CliIo, signal: AbortSignal | undefined): Promise<number> {
  const isReport = invocation.command === 'report';
  const env = io.env ?? process.env;
  const log = progressLogger(io);
  const result = await runHosted({
    trigger: 'cli',
    loadConfig: () => loadConfigFile(invocation.configPath),
    scope: (config) => cliScope(config, invocation),
    now: io.clock(),
    log,
    ...(await stateOf(invocation, env, log)),
    ...(invocation.noCache ? { inventoryCache: false } : {}),
    ...(io.providerFor ? { providerFor: io.providerFor } : {}),
    ...(signal ? { signal } : {}),
    env,
  });
  if (result.kind === 'busy') {
    // The warnings above name each registry, the run holding it and until when.
    io.stderr.write(
      `regprune: nothing done: another run holds the lock of every requested registry (${result.busy.join(', ')}); ` +
        'try again when it has finished\n',
    );
    return 1;
  }
  const { report } = result;
  const json = JSON.stringify(report, null, 2) + '\n';
  let code = result.historyFailed ? 1 : exitCodeFor(report);
  const renderOptions = { command: invocation.command, ...(result.history ? { history: [...result.history] } : {}) };
  if (invocation.reportPath !== undefined) {
    try {
      const format = formatForPath(invocation.reportPath, invocation.format);
      await io.writeFile(invocation.reportPath, format === 'json' ? json : renderReport(report, format, renderOptions));
    } catch (error) {
      io.stderr.write(`regprune: could not write the report to ${invocation.reportPath}: ${describeError(error)}\n`);
      code = 1;
    }
  }
  if (invocation.json) io.stdout.write(json);
  else if (isReport) {
    if (invocation.reportPath === undefined)
      io.stdout.write(renderReport(report, invocation.format ?? 'markdown', renderOptions));
    else io.stderr.write(`regprune: wrote the report to ${invocation.reportPath}\n`);
  } else io.stdout.write((invocation.command === 'plan' ? formatPlanDetail(report) : '') + formatSummary(report));
  return code;
}
