/**
 * runHosted (lib/run/hosted.ts) and the HTTP answer both clouds give (lib/run/http-answer.ts), and
 * the promise behind them: the CLI, Azure and AWS hosts produce the same report for the same config
 * and registry.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { functionUrlHandlerWith } from '../../functions/aws/http.js';
import { httpHandler } from '../../functions/azure/handlers.js';
import type { AzureDeps } from '../../functions/azure/run.js';
import { main } from '../../lib/cli/cli.js';
import { parseConfig } from '../../lib/config/load.js';
import { ConfigError, UsageError } from '../../lib/errors.js';
import type { LogFields, Logger } from '../../lib/log.js';
import { silentLogger } from '../../lib/log.js';
import type { Image } from '../../lib/model.js';
import type { MetricPoint } from '../../lib/metrics/points.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import type { Report } from '../../lib/report/types.js';
import { runHosted, type HostedRunOptions } from '../../lib/run/hosted.js';
import { answerForError, answerForResult } from '../../lib/run/http-answer.js';
import { scopeRun } from '../../lib/run/request.js';
import { LocalStateStore } from '../../lib/state/local.js';
import { daysAgo, image, NOW, TWO_REGISTRIES_CONFIG } from '../support/builders.js';
import { MemoryProvider } from '../support/memory-provider.js';
import { MemoryHistory, MemoryLock } from '../support/memory-state.js';
import { Capture } from '../support/capture.js';

const CONFIG = TWO_REGISTRIES_CONFIG;

/** Three builds: `latest` on the newest, so keep 1 deletes the oldest. */
function builds(prefix: string): Image[] {
  return [
    image({ name: `${prefix}-3`, tags: ['latest', '3'], pushedAt: daysAgo(1) }),
    image({ name: `${prefix}-2`, tags: ['2'], pushedAt: daysAgo(2) }),
    image({ name: `${prefix}-1`, tags: ['1'], pushedAt: daysAgo(3) }),
  ];
}

/** A fresh pair of registries with the same content, one MemoryProvider per configured name. */
function registries(): Map<string, MemoryProvider> {
  return new Map(
    CONFIG.registries.map(({ name }) => [
      name,
      new MemoryProvider({ name, repositories: { 'app/web': builds('web'), 'app/api': builds('api') } }),
    ]),
  );
}

function providerFor(byName: Map<string, MemoryProvider>) {
  return async (registry: { name: string }) => {
    const provider = byName.get(registry.name);
    if (!provider) throw new Error(`no test provider for ${registry.name}`);
    return provider;
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, _fields?: LogFields) => void lines.push(`${level}: ${message}`);
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function options(extra: Partial<HostedRunOptions> = {}): HostedRunOptions {
  return {
    trigger: 'http',
    loadConfig: async () => parseConfig(CONFIG),
    scope: (config) => scopeRun(config, {}),
    now: NOW,
    log: silentLogger,
    providerFor: providerFor(registries()),
    ...extra,
  };
}

/** The report without what differs between two runs of the same work: wall-clock times. */
function normalised(report: Report): unknown {
  return JSON.parse(JSON.stringify(report), (key, value: unknown) =>
    /At$|Ms$/.test(key) && (typeof value === 'string' || typeof value === 'number') ? `<${key}>` : value,
  );
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regprune-hosted-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runHosted', () => {
  it('skips and names a registry whose lock another run holds, and prunes the others', async () => {
    const byName = registries();
    const lock = new MemoryLock(new Set(['second.registry.example']));
    const log = recordingLogger();

    const result = await runHosted(options({ lock, log, providerFor: providerFor(byName) }));

    expect(result.kind).toBe('done');
    expect(result.busy).toEqual(['second']);
    expect(result.kind === 'done' && result.report.registries.map((r) => r.name)).toEqual(['first']);
    expect(byName.get('second')!.calls).toEqual([]);
    expect(log.lines).toContain('warn: another run holds the lock for registry "second"; this run leaves it alone');
    expect(lock.released).toEqual(['first.registry.example']);
  });

  it("names the holder of a busy registry's lease and its end in the log and the report's warnings", async () => {
    const store = new LocalStateStore(join(dir, 'holder'));
    const other = await new StateLeaseLock({ store, renewMs: 0, owner: 'ci-runner:77:abc' }).acquire(
      'second.registry.example',
    );
    const log = recordingLogger();

    const result = await runHosted(options({ lock: new StateLeaseLock({ store, renewMs: 0 }), log }));
    await other?.release();

    const warning = log.lines.find((line) => line.includes('"second"'));
    expect(warning).toMatch(/another run \(ci-runner:77:abc, lease until \d{4}-\d\d-\d\dT[\d:.]+Z\) holds the lock/);
    expect(result.kind === 'done' && result.report.warnings).toEqual([warning?.replace(/^warn: /, '')]);
  });

  it('takes the lock of one registry once when two config entries name its endpoint', async () => {
    const lock = new MemoryLock();
    const config = {
      ...CONFIG,
      registries: [
        CONFIG.registries[0]!,
        { ...CONFIG.registries[0]!, name: 'alias', endpoint: 'https://First.Registry.Example/' },
      ],
    };
    const byName = new Map([
      ['first', new MemoryProvider({ name: 'first', repositories: { 'app/web': builds('web') } })],
      ['alias', new MemoryProvider({ name: 'alias', repositories: { 'app/web': builds('web') } })],
    ]);

    const result = await runHosted(
      options({ lock, loadConfig: async () => parseConfig(config), providerFor: providerFor(byName) }),
    );

    expect(lock.taken).toEqual(['first.registry.example']);
    expect(result.kind === 'done' && result.report.registries.map((r) => r.name)).toEqual(['first', 'alias']);
    expect(lock.released).toEqual(['first.registry.example']);
  });

  it('takes no lock for a dry run, so a prune holding every lock does not make it busy', async () => {
    const byName = registries();
    const lock = new MemoryLock(new Set(['first.registry.example', 'second.registry.example']));

    const result = await runHosted(
      options({ lock, providerFor: providerFor(byName), scope: (config) => scopeRun(config, { dryRun: true }) }),
    );

    expect(result.kind).toBe('done');
    expect(result.busy).toEqual([]);
    expect(result.kind === 'done' && result.report.totals.deleted).toBe(4);
    expect(lock.taken).toEqual([]);
    expect([...byName.values()].flatMap((provider) => provider.calls.filter((c) => c.method === 'delete'))).toEqual([]);
  });

  it('calls no registry and answers busy when every requested registry is locked', async () => {
    const byName = registries();
    const lock = new MemoryLock(new Set(['first.registry.example']));

    const result = await runHosted(
      options({ lock, providerFor: providerFor(byName), scope: (config) => scopeRun(config, { registry: 'first' }) }),
    );

    expect(result).toEqual({ kind: 'busy', busy: ['first'] });
    expect([...byName.values()].flatMap((provider) => provider.calls)).toEqual([]);
  });

  it('records the run in the history store and returns the history including it', async () => {
    const history = new MemoryHistory();

    const result = await runHosted(options({ history }));

    expect(history.entries).toHaveLength(1);
    expect(result.kind === 'done' && result.history).toEqual(history.entries);
  });

  it('still returns the report, flagged, when the history store or the metric sink fails', async () => {
    const log = recordingLogger();

    const result = await runHosted(
      options({
        log,
        history: new MemoryHistory(true),
        publishMetrics: () => {
          throw new Error('metrics endpoint unreachable');
        },
      }),
    );

    expect(result.kind === 'done' && result.historyFailed).toBe(true);
    expect(result.kind === 'done' && result.report.totals.deleted).toBe(4);
    expect(log.lines.some((line) => line.startsWith('error: history storage unreachable'))).toBe(true);
    expect(log.lines.some((line) => line.includes('metrics endpoint unreachable'))).toBe(true);
  });

  it('publishes the metric points of the run with its trigger, and one run log line', async () => {
    const sent: MetricPoint[] = [];
    const log = recordingLogger();

    await runHosted(options({ trigger: 'schedule', log, publishMetrics: (points) => void sent.push(...points) }));

    expect(sent.filter((point) => point.name === 'ApiCalls').map((point) => point.dimensions.registry)).toEqual([
      'first',
      'second',
    ]);
    expect(sent.every((point) => point.properties.trigger === 'schedule')).toBe(true);
    expect(log.lines.filter((line) => line.includes('"event":"regprune.run"'))).toHaveLength(1);
  });

  it('turns a config error raised while reading the request into a bad request, before any registry call', async () => {
    const byName = registries();

    const running = runHosted(
      options({
        providerFor: providerFor(byName),
        scope: () => {
          throw new ConfigError('request body: repository: bad pattern');
        },
      }),
    );

    await expect(running).rejects.toBeInstanceOf(UsageError);
    expect([...byName.values()].flatMap((provider) => provider.calls)).toEqual([]);
  });
});

describe('HTTP answer', () => {
  it.each([
    ['a bad request', new UsageError('invalid request body: unknown key "endpoint"'), 400],
    ['a broken deployed config', new ConfigError('REGPRUNE_CONFIG is invalid', ['version: expected 1']), 500],
    ['anything else', new Error('socket hang up'), 500],
  ])('answers %s with status %i and a JSON error', (_case, error, status) => {
    const answer = answerForError(error, silentLogger);

    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toMatchObject({ error: expect.stringContaining(error.message) });
  });

  it('answers 409 naming the busy registries when every one was locked', () => {
    const answer = answerForResult({ kind: 'busy', busy: ['prod'] });

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ busy: ['prod'], error: expect.stringMatching(/already in progress for prod/) });
  });

  it('answers 200 for a complete run, and 202 with the skipped ones in a header', async () => {
    const done = await runHosted(options());
    const partial = await runHosted(options({ lock: new MemoryLock(new Set(['second.registry.example'])) }));

    expect(answerForResult(done).status).toBe(200);
    expect(answerForResult(partial)).toMatchObject({ status: 202, headers: { 'x-regprune-busy': 'second' } });
  });
});

describe('hosts', () => {
  function azureDeps(byName: Map<string, MemoryProvider>, config: unknown = CONFIG): AzureDeps {
    return {
      env: { REGPRUNE_CONFIG: JSON.stringify(config) },
      now: () => NOW,
      lock: new MemoryLock(),
      history: new MemoryHistory(),
      providerFor: providerFor(byName),
      metrics: () => null,
    };
  }

  function azurePost(byName: Map<string, MemoryProvider>, body: string, config: unknown = CONFIG) {
    const request = new functions.HttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/prune',
      body: { string: body },
    });
    return httpHandler(azureDeps(byName, config))(request, new functions.InvocationContext({ logHandler: () => {} }));
  }

  async function awsPost(byName: Map<string, MemoryProvider>, body: string, config: unknown = CONFIG) {
    const handler = functionUrlHandlerWith({
      env: { REGPRUNE_CONFIG: JSON.stringify(config) },
      now: () => NOW,
      log: silentLogger,
      providerFor: providerFor(byName),
      state: new LocalStateStore(join(dir, 'aws-state')),
    });
    const event = { requestContext: { http: { method: 'POST' } }, body, isBase64Encoded: false };
    // The EMF metrics go to stdout, as on Lambda; keep them out of the test output.
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const result = await handler(event, { getRemainingTimeInMillis: () => 600_000 }).finally(() =>
      stdout.mockRestore(),
    );
    return { status: result.statusCode, body: JSON.parse(result.body) as unknown };
  }

  it('produce the same report for the same config and registry: CLI, Azure and AWS', async () => {
    const configPath = join(dir, 'regprune.json');
    await writeFile(configPath, JSON.stringify(CONFIG));
    const cliRegistries = registries();
    const stdout = new Capture();
    const code = await main(['prune', '--config', configPath, '--json'], {
      stdout,
      stderr: new Capture(),
      clock: () => NOW,
      writeFile: async () => {},
      env: { ...process.env, REGPRUNE_STATE: join(dir, 'cli-state') },
      providerFor: providerFor(cliRegistries),
    });

    const azure = await azurePost(registries(), '');
    const aws = await awsPost(registries(), '');

    const cli = JSON.parse(stdout.text) as Report;
    expect(code).toBe(0);
    expect(cli.totals.deleted).toBe(4);
    expect(azure.status).toBe(200);
    expect(aws.status).toBe(200);
    // Who called is the one thing the hosts know differently (lib/run/caller.ts); the CLI records none.
    const { caller: azureCaller, ...azureReport } = azure.jsonBody as Report;
    const { caller: awsCaller, ...awsReport } = aws.body as Report;
    expect(cli.caller).toBeUndefined();
    expect([azureCaller?.kind, awsCaller?.kind]).toEqual(['function-key', 'unauthenticated']);
    expect(normalised(azureReport as Report)).toEqual(normalised(cli));
    expect(normalised(awsReport as Report)).toEqual(normalised(cli));
  });

  /** A config naming the first registry `name` at `endpoint` (one registry, spelled differently). */
  function oneRegistry(name: string, endpoint: string) {
    return { ...CONFIG, registries: [{ ...CONFIG.registries[0]!, name, endpoint }] };
  }

  /** A provider factory that waits at `gate` once the run holds its lock, and says when it got there. */
  function gated(provider: MemoryProvider) {
    let open = (): void => {};
    let reached = (): void => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const factory = async () => {
      reached();
      await gate;
      return provider;
    };
    return { factory, open, arrived };
  }

  it('exclude each other by endpoint across the CLI and a function that share one state store', async () => {
    const stateDir = join(dir, 'shared-state');
    const configPath = join(dir, 'cli-names-it-laptop.json');
    await writeFile(configPath, JSON.stringify(oneRegistry('laptop', 'https://FIRST.registry.example/')));
    const functionConfig = JSON.stringify(oneRegistry('prod', 'https://first.registry.example'));
    const lambda = (byName: Map<string, MemoryProvider>) =>
      functionUrlHandlerWith({
        env: { REGPRUNE_CONFIG: functionConfig },
        now: () => NOW,
        log: silentLogger,
        providerFor: providerFor(byName),
        state: new LocalStateStore(stateDir),
      });
    const event = { requestContext: { http: { method: 'POST' } }, body: '{}', isBase64Encoded: false };
    const context = { getRemainingTimeInMillis: () => 600_000 };
    const cliProvider = new MemoryProvider({ name: 'laptop', repositories: { 'app/web': builds('web') } });
    const cliGate = gated(cliProvider);
    const cliStderr = new Capture();
    const cliIo = (stderr: Capture, factory: () => Promise<MemoryProvider>) => ({
      stdout: new Capture(),
      stderr,
      clock: () => NOW,
      writeFile: async () => {},
      env: { ...process.env, REGPRUNE_STATE: stateDir },
      providerFor: factory,
    });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

    // The CLI holds the lock (waiting at its gate) while the function is asked to run.
    const cliRun = main(['prune', '--config', configPath], cliIo(cliStderr, cliGate.factory));
    await cliGate.arrived;
    const functionRegistries = registries();
    const whileCliRuns = await lambda(functionRegistries)(event, context);
    cliGate.open();
    const cliCode = await cliRun;
    // Then the function holds it while the CLI is asked to run.
    const fnGate = gated(new MemoryProvider({ name: 'prod', repositories: { 'app/web': builds('web') } }));
    const fnRun = functionUrlHandlerWith({
      env: { REGPRUNE_CONFIG: functionConfig },
      now: () => NOW,
      log: silentLogger,
      providerFor: fnGate.factory,
      state: new LocalStateStore(stateDir),
    })(event, context);
    await fnGate.arrived;
    const busyStderr = new Capture();
    const secondCli = new MemoryProvider({ name: 'laptop' });
    const whileFunctionRuns = await main(
      ['prune', '--config', configPath],
      cliIo(busyStderr, async () => secondCli),
    );
    fnGate.open();
    const fnAnswer = await fnRun.finally(() => stdout.mockRestore());

    expect(whileCliRuns.statusCode).toBe(409);
    expect([...functionRegistries.values()].flatMap((provider) => provider.calls)).toEqual([]);
    expect(cliCode).toBe(0);
    expect(cliProvider.calls.filter((call) => call.method === 'delete')).toHaveLength(1);
    expect(whileFunctionRuns).toBe(1);
    expect(secondCli.calls).toEqual([]);
    expect(busyStderr.text).toMatch(/another run \(.+, lease until .+\) holds the lock for registry "laptop"/);
    expect(busyStderr.text).toMatch(/nothing done/);
    expect(fnAnswer.statusCode).toBe(200);
  });

  it.each([
    ['a body that is not JSON', '{"dryRun": tru', CONFIG],
    ['a body that would widen the run', '{"endpoint": "http://169.254.169.254/"}', CONFIG],
    ['a broken deployed config', '{}', { ...CONFIG, version: 2 }],
  ])('answer %s with the same status and body on both clouds, calling no registry', async (_case, body, config) => {
    const azureRegistries = registries();
    const awsRegistries = registries();

    const azure = await azurePost(azureRegistries, body, config);
    const aws = await awsPost(awsRegistries, body, config);

    expect([400, 500]).toContain(azure.status);
    expect(aws).toEqual({ status: azure.status, body: azure.jsonBody });
    const calls = [...azureRegistries.values(), ...awsRegistries.values()].flatMap((provider) => provider.calls);
    expect(calls).toEqual([]);
  });
});
