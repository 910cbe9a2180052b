/** `regprune plan` and `regprune prune`: load, check the scope, run the pipeline, print. */
import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
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
import { colourWanted, paintFor, runDisplay } from './progress.js';
import { createProvider } from '../providers/index.js';
import { unmatchedScopeNotes } from '../report/unmatched.js';
import type { Report } from '../report/types.js';
import { reportJsonText } from '../render/json.js';
import { askOnTerminal, deletionCounts, gateDecision } from './deletion-gate.js';

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
    ...(isReport && invocation.whatIf ? { whatIf: invocation.whatIf } : {}),
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
  // root may "write" anywhere, but /proc and /sys are the kernel's, not files: the write fails at the end.
  const kind = await statfs(target)
    .then((info) => PSEUDO_FILESYSTEMS.get(info.type))
    .catch(() => undefined);
  if (kind !== undefined)
    throw new UsageError(`${option} ${path}: ${target} is on ${kind}, not on a disk; give a path in a real directory`);
}

/** statfs(2) magic numbers of the kernel's pseudo-filesystems (linux/magic.h). */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'procfs (/proc)'],
  [0x62656572, 'sysfs (/sys)'],
  [0x64626720, 'debugfs'],
  [0x27e0eb, 'cgroupfs'],
  [0x63677270, 'cgroup2fs'],
]);

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

/**
 * Before a real prune: a preview (a dry run of the same scope, no lock, no history) counts what it
 * would delete, for the caps and the terminal's confirmation. Returns the exit code when the run
 * must not go ahead, null when it may. docs/cli.md, "Safety caps".
 */
async function gateRealRun(
  invocation: RunInvocation,
  config: Config,
  io: CliIo,
  context: { env: NodeJS.ProcessEnv; log: Logger; signal: AbortSignal | undefined },
): Promise<number | null> {
  if (invocation.command !== 'prune' || (invocation.dryRun ?? config.dryRun)) return null;
  const interactive = process.stdin.isTTY === true && io.stderr.isTTY === true;
  const capped = invocation.maxDeletions !== undefined || config.registries.some((r) => r.maxDeletions !== undefined);
  if (!capped && (invocation.yes || !interactive)) return null;
  io.stderr.write('regprune: counting what this run would delete before deleting anything\n');
  const preview = await runHosted({
    trigger: 'cli',
    loadConfig: async () => config,
    scope: (loaded) => ({ ...cliScope(loaded, invocation), dryRun: true }),
    now: io.clock(),
    log: context.log,
    ...(io.providerFor ? { providerFor: io.providerFor } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
    env: context.env,
  });
  if (preview.kind !== 'done') return null; // a dry run takes no lock: never busy
  if (exitCodeFor(preview.report) !== 0 || preview.report.complete === false) {
    io.stderr.write('regprune: nothing deleted: counting what the run would delete did not finish; see above\n');
    return 1;
  }
  const decision = gateDecision({
    counts: deletionCounts(preview.report),
    config,
    maxDeletions: invocation.maxDeletions,
    yes: invocation.yes ?? false,
    interactive,
  });
  if (decision.kind === 'proceed') return null;
  if (decision.kind === 'refuse') {
    io.stderr.write(`regprune: ${decision.message}\n`);
    return 1;
  }
  const yes = await askOnTerminal(decision.question, { input: process.stdin, output: io.stderr });
  if (yes) return null;
  io.stderr.write('regprune: nothing deleted (not confirmed)\n');
  return 1;
}

async function runAndPrint(invocation: RunInvocation, io: CliIo, signal: AbortSignal | undefined): Promise<number> {
  const env = io.env ?? process.env;
  const display = runDisplay({ stderr: io.stderr, env, verbosity: invocation.verbosity ?? 'normal' });
  // `plan` prints each repository's notes under it on stdout: stderr does not say them a second time.
  const notesOnStdout = invocation.command === 'plan' && !invocation.json;
  const heldWarnings: string[] = [];
  const log = notesOnStdout
    ? { ...display.log, warn: (message: string) => void heldWarnings.push(message) }
    : display.log;
  let config: Config | undefined;
  try {
    const loaded = invocation.config ?? (await loadConfigFile(invocation.configPath));
    config = loaded;
    const refused = await gateRealRun(invocation, loaded, io, { env, log, signal });
    if (refused !== null) return refused;
    const providerFor: NonNullable<CliIo['providerFor']> =
      io.providerFor ?? ((registry, extras) => createProvider(registry, { log, env, ...extras }));
    const result = await runHosted({
      trigger: 'cli',
      loadConfig: async () => loaded,
      scope: (loaded) => cliScope(loaded, invocation),
      now: io.clock(),
      log,
      ...(await stateOf(invocation, env, log)),
      ...(invocation.noCache ? { inventoryCache: false } : {}),
      providerFor: async (registry, extras) => display.countDeletions(await providerFor(registry, extras)),
      progress: display.progress,
      ...(signal ? { signal } : {}),
      env,
    });
    display.stop();
    if (result.kind === 'done') {
      for (const warning of notShownOnStdout(heldWarnings, result.report)) display.log.warn(warning);
      if (config !== undefined)
        for (const note of unmatchedScopeNotes(config, result.report, invocation)) display.log.warn(note);
    }
    return printResult(invocation, io, result);
  } finally {
    display.stop();
  }
}

/** The held warnings the plan listing does not show (run-wide ones: a busy lock, a registry error). */
function notShownOnStdout(warnings: readonly string[], report: Report): string[] {
  const shown = new Set(
    report.registries.flatMap((registry) =>
      registry.repositories.flatMap((repository) =>
        repository.warnings.map((warning) => `${registry.name}/${repository.name}: ${warning}`),
      ),
    ),
  );
  return warnings.filter((warning) => !shown.has(warning));
}

async function printResult(
  invocation: RunInvocation,
  io: CliIo,
  result: Awaited<ReturnType<typeof runHosted>>,
): Promise<number> {
  const isReport = invocation.command === 'report';
  if (result.kind === 'busy') {
    // The warnings above name each registry, the run holding it and until when.
    io.stderr.write(
      `regprune: nothing done: another run holds the lock of every requested registry (${result.busy.join(', ')}); ` +
        'try again when it has finished\n',
    );
    return 1;
  }
  const { report } = result;
  // The JSON text in pieces, never whole (lib/render/json.ts).
  const json = () => reportJsonText(report);
  const writeJson = () => {
    for (const piece of json()) io.stdout.write(piece);
  };
  let code = result.historyFailed ? 1 : exitCodeFor(report);
  const renderOptions = { command: invocation.command, ...(result.history ? { history: [...result.history] } : {}) };
  let written = false;
  if (invocation.reportPath !== undefined) {
    try {
      const format = formatForPath(invocation.reportPath, invocation.format);
      await io.writeFile(
        invocation.reportPath,
        format === 'json' ? json() : renderReport(report, format, renderOptions),
      );
      written = true;
    } catch (error) {
      io.stderr.write(`regprune: could not write the report to ${invocation.reportPath}: ${describeError(error)}\n`);
      code = 1;
    }
  }
  if (invocation.json) writeJson();
  else if (isReport) {
    const format = invocation.format ?? 'markdown';
    if (invocation.reportPath === undefined && format === 'json') writeJson();
    else if (invocation.reportPath === undefined) io.stdout.write(renderReport(report, format, renderOptions));
    else if (written) io.stderr.write(`regprune: wrote the report to ${invocation.reportPath}\n`);
  } else {
    const paint = paintFor(colourWanted(io.stdout as { isTTY?: boolean }, io.env ?? process.env));
    const all = invocation.all ?? false;
    io.stdout.write(
      invocation.command === 'plan'
        ? formatPlanDetail(report, { all, paint }) + formatSummary(report)
        : // prune ends with what it deleted, per repository, so the terminal shows it without a report file.
          formatSummary(report) + '\n' + formatPlanDetail(report, { all, paint, deletedOnly: true }),
    );
  }
  return code;
}
