/**
 * Stopping a run before its end (issue 11, items 3 and 4): a signal, or a run lock lost or about to
 * lapse, starts no new deletion; what was left is pending, with the reason, and the report says so.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../lib/cli/cli.js';
import { parseConfig } from '../../lib/config/load.js';
import type { RegistryConfig } from '../../lib/config/schema.js';
import type { LeaseClock, LockHandle } from '../../lib/lock/lock.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { silentLogger } from '../../lib/log.js';
import type { Image } from '../../lib/model.js';
import type { Report } from '../../lib/report/types.js';
import { runHosted } from '../../lib/run/hosted.js';
import { exitCodeFor, prune } from '../../lib/run/prune.js';
import { scopeRun } from '../../lib/run/request.js';
import {
  leaseStopCheck,
  stopOnSignals,
  withSignalStop,
  type SignalSource,
  type StopSignal,
} from '../../lib/run/stop.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { daysAgo, image, NOW, TWO_REGISTRIES_CONFIG } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { MemoryHistory } from '../support/memory-state.js';
import { Capture } from '../support/capture.js';

const CONFIG = TWO_REGISTRIES_CONFIG;

/** Four builds, `latest` on the newest: keep 1 (pinned images do not count) deletes two. */
function builds(prefix: string): Image[] {
  return [4, 3, 2, 1].map((n) =>
    image({ name: `${prefix}-${n}`, tags: n === 4 ? ['latest', `${n}`] : [`${n}`], pushedAt: daysAgo(5 - n) }),
  );
}

/** One delete per batch, so a stop can fall between two deletions of one repository. */
function registry(name: string, repositories = ['app/api', 'app/web']): MemoryProvider {
  return new MemoryProvider({
    name,
    maxDeleteBatch: 1,
    repositories: Object.fromEntries(repositories.map((repository) => [repository, builds(repository)])),
  });
}

function providerFor(byName: Record<string, MemoryProvider>) {
  return async (config: RegistryConfig) => {
    const provider = byName[config.name];
    if (!provider) throw new Error(`no test provider for ${config.name}`);
    return provider;
  };
}

/** A MemoryProvider that calls `onListed` after each repository name its listing hands out. */
class ListingProvider extends MemoryProvider {
  readonly listed: string[] = [];
  onListed: (name: string) => void = () => undefined;

  override async *listRepositories(): AsyncIterable<string> {
    for await (const name of super.listRepositories()) {
      this.listed.push(name);
      yield name;
      this.onListed(name);
    }
  }
}

function threeRepositories(): Record<string, Image[]> {
  return Object.fromEntries(['app/a', 'app/b', 'app/c'].map((name) => [name, builds(name)]));
}

function pendingReasons(report: Report): string[] {
  return report.registries.flatMap((r) => r.repositories.flatMap((repo) => repo.pending.map((p) => p.reason ?? '')));
}

/** The signals of a process that a test sends by hand. */
class FakeSignals extends EventEmitter implements SignalSource {
  send(signal: StopSignal): void {
    this.emit(signal);
  }
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-stop-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a stopped run', () => {
  it('starts no delete batch after the stop, and reports the rest pending with the reason', async () => {
    const first = registry('first', ['app/web']);
    const stop = new AbortController();
    first.before.set('delete', () => stop.abort('stopped by SIGINT'));

    const report = await prune({
      config: parseConfig(CONFIG),
      now: NOW,
      registries: ['first'],
      signal: stop.signal,
      providerFor: providerFor({ first }),
    });

    expect(first.deletedDigests()).toHaveLength(1);
    expect(report.totals.pending).toBe(1);
    expect(pendingReasons(report)).toEqual(['stopped by SIGINT']);
    expect(report.complete).toBe(false);
    expect(report.stopped).toBe('stopped by SIGINT');
    expect(report.registries[0]!.repositories[0]!.warnings).toContain(
      'stopped: stopped by SIGINT; 1 deletion(s) left for the next run',
    );
    expect(exitCodeFor(report)).toBe(0);
  });

  it('lists no further repository once stopped, and says which were left unexamined', async () => {
    const first = registry('first', ['app/api', 'app/web']);
    const second = registry('second');
    const stop = new AbortController();
    first.before.set('listImages', () => stop.abort('stopped by SIGTERM'));

    const report = await prune({
      config: parseConfig(CONFIG),
      now: NOW,
      signal: stop.signal,
      providerFor: providerFor({ first, second }),
    });

    expect(report.registries.map((r) => r.repositories.map((repo) => repo.name))).toEqual([['app/api'], []]);
    expect(first.deletedDigests()).toEqual([]);
    expect(second.calls.filter((call) => call.method !== 'listRepositories')).toEqual([]);
    expect(report.complete).toBe(false);
    expect(report.warnings).toEqual([
      'first: stopped by SIGTERM; 1 of 2 matching repositories left unexamined for the next run',
      'second: stopped by SIGTERM; the repositories listed so far (0 matching) and from "app/api" on left ' +
        'unexamined for the next run',
    ]);
  });

  it('stops reading the repository listing when stopped in the middle of it', async () => {
    const first = new ListingProvider({ name: 'first', repositories: threeRepositories() });
    const stop = new AbortController();
    first.onListed = (name) => {
      if (name === 'app/a') stop.abort('stopped by SIGINT');
    };

    const report = await prune({
      config: parseConfig(CONFIG),
      now: NOW,
      registries: ['first'],
      signal: stop.signal,
      providerFor: providerFor({ first }),
    });

    expect(first.listed).toEqual(['app/a', 'app/b']);
    expect(report.registries[0]!.repositories).toEqual([]);
    expect(report.complete).toBe(false);
  });

  it('checks the time budget at every repository name while listing', async () => {
    const first = new ListingProvider({ name: 'first', repositories: threeRepositories() });
    let remainingMs = 100_000;
    first.onListed = () => {
      remainingMs = 0;
    };

    const report = await prune({
      config: parseConfig(CONFIG),
      now: NOW,
      registries: ['first'],
      remainingMs: () => remainingMs,
      providerFor: providerFor({ first }),
    });

    expect(first.listed).toEqual(['app/a', 'app/b']);
    expect(report.complete).toBe(false);
    expect(report.stopped).toBeUndefined();
    expect(report.warnings?.[0]).toMatch(/^first: time budget nearly used up; .* left unexamined/);
  });
});

describe('a run whose lock is lost', () => {
  it('stops deleting in that registry only, leaves the rest pending and fails the registry saying why', async () => {
    const first = registry('first');
    const second = registry('second');
    const lost = new Set<string>();
    first.before.set('delete', () => lost.add('first'));

    const report = await prune({
      // One repository at a time, so that the second is still unstarted when the lock goes.
      config: parseConfig({
        ...CONFIG,
        registries: CONFIG.registries.map((entry) => ({ ...entry, repositoryConcurrency: 1 })),
      }),
      now: NOW,
      lockLost: (name) => (lost.has(name) ? 'the run lock was lost (the test took it)' : null),
      providerFor: providerFor({ first, second }),
    });

    const [firstReport, secondReport] = report.registries;
    expect(first.deletedDigests()).toHaveLength(1);
    expect(firstReport!.repositories.map((repo) => repo.name)).toEqual(['app/api']);
    expect(firstReport!.repositories[0]!.pending.map((entry) => entry.reason)).toEqual([
      'the run lock was lost (the test took it)',
    ]);
    expect(firstReport!.error).toBe(
      'registry "first": the run lock was lost (the test took it): nothing more is deleted in it this run; ' +
        '1 of 2 matching repositories left for the next run',
    );
    expect(report.complete).toBe(false);
    expect(second.deletedDigests()).toHaveLength(4);
    expect(secondReport!.error).toBeUndefined();
    expect(exitCodeFor(report)).toBe(1);
  });

  it('stops when the real lease is about to lapse, through the hosted run', async () => {
    let monotonicMs = 0;
    const clock: LeaseClock = { wallMs: () => NOW.getTime() + monotonicMs, monotonicMs: () => monotonicMs };
    const lock = new StateLeaseLock({ store: new LocalStateStore(join(dir, 'lapse')), clock, renewMs: 0 });
    const first = registry('first', ['app/web']);
    // The event loop stalls for 45 s of a 60 s lease: 15 s are left, within the 20 s margin.
    first.before.set('delete', () => {
      monotonicMs += 45_000;
    });

    const result = await runHosted({
      trigger: 'http',
      loadConfig: async () => parseConfig(CONFIG),
      scope: (config) => scopeRun(config, { registry: 'first' }),
      now: NOW,
      log: silentLogger,
      lock,
      providerFor: providerFor({ first }),
    });

    const report = result.kind === 'done' ? result.report : null;
    expect(first.deletedDigests()).toHaveLength(1);
    expect(report?.totals.pending).toBe(1);
    expect(report?.registries[0]?.error).toMatch(
      /^registry "first": the run lock was lost or is about to lapse \(the lease ends within the 20 s safety margin/,
    );
  });

  it('is told apart from a lease with time to spare', () => {
    let left = 30_000;
    const handle: LockHandle = {
      key: 'k',
      heldFor: (marginMs) => left > marginMs,
      lostReason: () => null,
      release: async () => undefined,
    };
    const check = leaseStopCheck(handle, 20_000);

    const before = check();
    left = 10_000;
    const after = check();

    expect(before).toBeNull();
    expect(after).toBe('the run lock was lost or is about to lapse (the lease ends within the 20 s safety margin)');
  });
});

describe('signals', () => {
  it('abort the run at the first signal with its name, and call for an exit at the second', () => {
    const signals = new FakeSignals();
    const said: string[] = [];
    const stop = stopOnSignals(signals, {
      onStop: (signal) => said.push(`stop ${signal}`),
      onSecondSignal: (signal) => said.push(`exit ${signal}`),
    });

    signals.send('SIGTERM');
    const reason: unknown = stop.signal.reason;
    signals.send('SIGINT');
    stop.dispose();
    signals.send('SIGINT');

    expect(reason).toBe('stopped by SIGTERM');
    expect(stop.stoppedBy()).toBe('SIGTERM');
    expect(said).toEqual(['stop SIGTERM', 'exit SIGINT']);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });
});

describe('a function host stopped by SIGTERM', () => {
  it('logs "stopping", aborts the run, exits 143 at a second SIGTERM and stops listening after the run', async () => {
    const signals = new FakeSignals();
    const logged: string[] = [];
    const log = { ...silentLogger, warn: (line: string) => void logged.push(`warn: ${line}`) };
    const exits: number[] = [];

    const reason = await withSignalStop({ signals, log, exit: (code) => void exits.push(code) }, async (signal) => {
      signals.send('SIGTERM');
      signals.send('SIGTERM');
      return signal?.reason as unknown;
    });

    expect(reason).toBe('stopped by SIGTERM');
    expect(logged[0]).toMatch(/^warn: stopping: SIGTERM received/);
    expect(exits).toEqual([143]);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});

describe('the CLI stopped by a signal', () => {
  async function runStopped(signalsSent: StopSignal[]) {
    const provider = registry('first', ['app/web']);
    const signals = new FakeSignals();
    const exits: number[] = [];
    provider.before.set('delete', () => {
      for (const signal of signalsSent.splice(0)) signals.send(signal);
    });
    const stdout = new Capture();
    const stderr = new Capture();
    const io: CliIo = {
      stdout,
      stderr,
      clock: () => NOW,
      writeFile: async () => undefined,
      env: { ...process.env, REGPRUNE_STATE: join(dir, 'cli-state') },
      providerFor: async () => provider,
      signals,
      exit: (code) => void exits.push(code),
    };
    const configPath = join(dir, 'config.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      configPath,
      JSON.stringify({ ...CONFIG, registries: [{ ...CONFIG.registries[0]!, endpoint: 'http://127.0.0.1:9' }] }),
    );
    const history = join(dir, `history-${signalsSent.join('-')}.jsonl`);

    const code = await main(['prune', '--config', configPath, '--json', '--history', history], io);

    const { readFile } = await import('node:fs/promises');
    const historyLines = (await readFile(history, 'utf8')).trim().split('\n');
    return { code, report: JSON.parse(stdout.text) as Report, stderr: stderr.text, exits, historyLines, provider };
  }

  it('exits 143 after SIGTERM, having said "stopping" and written the partial report and the history', async () => {
    const run = await runStopped(['SIGTERM']);

    expect(run.code).toBe(143);
    expect(run.stderr).toMatch(/^regprune: stopping: SIGTERM received; no new deletion starts/m);
    expect(run.report.complete).toBe(false);
    expect(run.report.stopped).toBe('stopped by SIGTERM');
    expect(run.report.totals.pending).toBe(1);
    expect(run.provider.deletedDigests()).toHaveLength(1);
    expect(run.historyLines).toHaveLength(1);
    expect(JSON.parse(run.historyLines[0]!)).toMatchObject({ complete: false });
    expect(run.exits).toEqual([]);
  });

  it('ends at once with 130 at a second signal', async () => {
    const run = await runStopped(['SIGINT', 'SIGINT']);

    expect(run.exits).toEqual([130]);
    expect(run.stderr).toMatch(/^regprune: SIGINT again: ending at once/m);
    expect(run.code).toBe(130);
  });
});

describe('the history of a stopped run', () => {
  it('is written by the hosted run', async () => {
    const history = new MemoryHistory();
    const stop = new AbortController();
    stop.abort('stopped by SIGTERM');

    const result = await runHosted({
      trigger: 'schedule',
      loadConfig: async () => parseConfig(CONFIG),
      scope: (config) => scopeRun(config, {}),
      now: NOW,
      log: silentLogger,
      history,
      signal: stop.signal,
      providerFor: providerFor({ first: registry('first'), second: registry('second') }),
    });

    expect(result.kind === 'done' && result.report.stopped).toBe('stopped by SIGTERM');
    expect(history.entries).toHaveLength(1);
    expect(history.entries[0]!.complete).toBe(false);
  });
});
