/**
 * The Functions handlers, called with real @azure/functions InvocationContext, Timer and
 * HttpRequest objects, against the fake ACR (over HTTPS, real SDK) and Azurite (the state store that
 * holds the run lock and the history).
 */
import functions, { type InvocationContext, type Timer } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseClientPrincipal } from '../../functions/azure/client-principal.js';
import { httpHandler, timerHandler } from '../../functions/azure/handlers.js';
import { runOnAzure, type AzureDeps } from '../../functions/azure/run.js';
import { silentLogger } from '../../lib/log.js';
import type { AcrRegistryConfig, RegistryConfig } from '../../lib/config/index.js';
import { StateHistoryStore } from '../../lib/history/state.js';
import { lockKeyFor } from '../../lib/lock/key.js';
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import type { MetricSink } from '../../lib/metrics/azure-monitor.js';
import { createAcrProvider } from '../../lib/providers/acr/index.js';
import type { Report } from '../../lib/report/types.js';
import { BlobStateStore } from '../../lib/state/azure-blob.js';
import { FakeAcr, fakeAadCredential } from '../support/fake-acr.js';
import { startAzurite, type Azurite } from '../support/azurite.js';
import {
  InMemoryMetricExporter,
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

const NOW = new Date('2026-06-01T03:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

let fake: FakeAcr;
let azurite: Azurite;
let logs: string[];

function configText(overrides: { dryRun?: boolean } = {}): string {
  return JSON.stringify({
    version: 1,
    dryRun: overrides.dryRun ?? false,
    defaults: { keep: 2, pinned: ['latest'], minAge: '0m' },
    registries: [
      {
        name: 'prod',
        provider: 'acr',
        endpoint: fake.endpoint,
        repositories: [{ match: 'team-a/**' }, { match: 'team-b/**', keep: 1 }],
      },
    ],
  });
}

function deps(extra: Partial<AzureDeps> & { config?: string } = {}): AzureDeps {
  const { config, ...rest } = extra;
  return {
    env: { REGPRUNE_CONFIG: config ?? configText(), AzureWebJobsStorage: azurite.connectionString },
    now: () => NOW,
    providerFor: (registry: RegistryConfig) =>
      createAcrProvider(registry as AcrRegistryConfig, {
        credential: fakeAadCredential,
        ca: fake.ca,
        retry: { retryDelayInMs: 1, maxRetryDelayInMs: 5 },
      }),
    metrics: () => null,
    ...rest,
  };
}

function context(): InvocationContext {
  return new functions.InvocationContext({
    invocationId: 'test-invocation',
    functionName: 'prune',
    logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
  });
}

function post(body: string, headers: Record<string, string> = {}): functions.HttpRequest {
  return new functions.HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/prune',
    body: { string: body },
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const OBJECT_ID = '00000000-0000-0000-0000-0000000000aa';
const APP_ID = '11111111-0000-0000-0000-0000000000bb';
const TENANT_ID = '22222222-0000-0000-0000-0000000000cc';

/** `x-ms-client-principal` as App Service authentication writes it for an Entra token with `roles`. */
function clientPrincipal(roles: string[], name = 'alice@example.com'): Record<string, string> {
  const principal = {
    auth_typ: 'aad',
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
    claims: [
      { typ: 'aud', val: 'api://regprune' },
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OBJECT_ID },
      { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: TENANT_ID },
      { typ: 'appid', val: APP_ID },
      { typ: 'name', val: name },
      ...roles.map((role) => ({ typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: role })),
    ],
  };
  return { 'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64') };
}

/** Deps of a function app deployed with Entra auth on (Bicep sets REGPRUNE_ENTRA_REQUIRED_ROLE). */
function entraDeps(): AzureDeps {
  const base = deps();
  return { ...base, env: { ...base.env, REGPRUNE_ENTRA_REQUIRED_ROLE: 'Prune.Run' } };
}

function runLine(): Record<string, unknown> {
  const lines = logs.filter((line) => line.includes('"event":"regprune.run"'));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!.slice(lines[0]!.indexOf('{'))) as Record<string, unknown>;
}

const TIMER: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

/** Five builds per repository, oldest first; `latest` on the newest. */
function seed(repository: string): string[] {
  return Array.from({ length: 5 }, (_, i) =>
    fake.push(repository, { tags: i === 4 ? [`b${i}`, 'latest'] : [`b${i}`], updatedAt: daysAgo(10 - i) }),
  );
}

beforeAll(async () => {
  [fake, azurite] = await Promise.all([FakeAcr.start(), startAzurite()]);
});

afterAll(async () => {
  await Promise.all([fake.close(), azurite.stop()]);
});

beforeEach(() => {
  fake.resetLog();
  logs = [];
});

/** The state store the functions find through AzureWebJobsStorage: the Azurite account's default container. */
function appStateStore(): BlobStateStore {
  return new BlobStateStore({ service: BlobServiceClient.fromConnectionString(azurite.connectionString) });
}

/** Another run's lease on the fake ACR's endpoint, as a CLI sharing the function app's store would take it. */
function otherRun(): Promise<{ release(): Promise<void> } | null> {
  const key = lockKeyFor({ name: 'elsewhere', provider: 'acr', endpoint: fake.endpoint, repositories: [] });
  return new StateLeaseLock({ store: appStateStore(), renewMs: 0, owner: 'laptop:4242:cli' }).acquire(key);
}

describe('HTTP trigger', () => {
  it('prunes on POST and answers with the JSON report', async () => {
    seed('team-a/web');

    const response = await httpHandler(deps())(post('{"repository": "team-a/web"}'), context());

    expect(response.status).toBe(200);
    const report = response.jsonBody as Report;
    expect(report.version).toBe(1);
    expect(report.registries[0]!.repositories.map((r) => [r.name, r.images.deleted])).toEqual([['team-a/web', 2]]);
    expect(fake.tags('team-a/web')).toEqual(['b2', 'b3', 'b4', 'latest']);
  });

  it('answers 400 naming the problem for a body that would widen the run, and calls no registry', async () => {
    const response = await httpHandler(deps())(post('{"endpoint": "https://evil.example"}'), context());

    expect(response.status).toBe(400);
    expect((response.jsonBody as { error: string }).error).toMatch(/invalid request body: unknown key "endpoint"/);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await httpHandler(deps())(post('repository=team-a'), context());

    expect(response.status).toBe(400);
    expect((response.jsonBody as { error: string }).error).toMatch(/not JSON/);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses to turn deletion on when the config is dry', async () => {
    const response = await httpHandler(deps({ config: configText({ dryRun: true }) }))(
      post('{"dryRun": false}'),
      context(),
    );

    expect(response.status).toBe(400);
    expect(fake.requests).toHaveLength(0);
  });

  it('does a dry run on request and deletes nothing', async () => {
    seed('team-a/dry');

    const response = await httpHandler(deps())(post('{"repository": "team-a/dry", "dryRun": true}'), context());

    const report = response.jsonBody as Report;
    expect(report.dryRun).toBe(true);
    expect(report.registries[0]!.repositories[0]!.deleted).toHaveLength(2);
    expect(fake.count('DELETE')).toBe(0);
  });

  it('fails with the config error path before any registry call when REGPRUNE_CONFIG is invalid', async () => {
    const bad = JSON.stringify({
      version: 1,
      registries: [
        { name: 'prod', provider: 'acr', endpoint: fake.endpoint, repositories: [{ match: '**', keep: -1 }] },
      ],
    });

    const response = await httpHandler(deps({ config: bad }))(post('{}'), context());

    expect(response.status).toBe(500);
    expect((response.jsonBody as { error: string }).error).toMatch(/registries\[0\]\.repositories\[0\]\.keep/);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 409 and does nothing while another run holds the registry lock in the state store', async () => {
    seed('team-a/busy');
    const other = await otherRun();

    const response = await httpHandler(deps())(post('{}'), context());
    await other?.release();

    expect(other).not.toBeNull();
    expect(response.status).toBe(409);
    expect((response.jsonBody as { error: string }).error).toMatch(/already in progress for prod/);
    expect(logs.some((line) => line.includes('laptop:4242:cli'))).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  it('runs a dry run while another run holds the lock: a dry run deletes nothing and takes no lock', async () => {
    seed('team-a/preview');
    const other = await otherRun();

    const response = await httpHandler(deps())(post('{"repository": "team-a/preview", "dryRun": true}'), context());
    await other?.release();

    expect(response.status).toBe(200);
    expect((response.jsonBody as Report).registries[0]!.repositories[0]!.deleted).toHaveLength(2);
    expect(fake.count('DELETE')).toBe(0);
  });

  it(
    'stops deleting when the HTTP budget runs low mid-repository, reports the rest pending, and the next run ' +
      'converges',
    async () => {
      for (let i = 0; i < 150; i++) fake.push('team-a/big', { tags: [`build-${i}`], updatedAt: daysAgo(200 - i) });
      // Time passes as the registry is called: 3 s per request, so the 200 s budget (30 s margin)
      // allows the listing and the first batch of deletions, then no new one.
      const slowRegistry = deps({ elapsedClockMs: () => fake.requests.length * 3_000 });

      const first = await httpHandler(slowRegistry)(post('{"repository": "team-a/big"}'), context());
      const second = await httpHandler(deps())(post('{"repository": "team-a/big"}'), context());

      const cut = first.jsonBody as Report;
      expect(first.status).toBe(202);
      expect(cut.complete).toBe(false);
      expect(cut.totals.deleted).toBe(64);
      expect(cut.totals.pending).toBe(148 - 64);
      expect(cut.registries[0]!.repositories[0]!.pending).toHaveLength(148 - 64);
      const rest = second.jsonBody as Report;
      expect(rest.complete).toBe(true);
      expect(rest.totals.deleted).toBe(148 - 64);
      expect(fake.tags('team-a/big')).toEqual(['build-148', 'build-149']);
    },
  );

  it('returns what it did and what is left when the time budget runs out, and the next run converges', async () => {
    seed('team-b/slow');
    seed('team-b/slower');

    // A budget already spent: prune() starts nothing and reports the run incomplete.
    const first = await runOnAzure(
      { trigger: 'http', body: { repository: 'team-b/**' }, budgetMs: 0, log: silentLogger },
      deps(),
    );
    const second = await httpHandler(deps())(post('{"repository": "team-b/**"}'), context());

    expect(first.kind === 'done' && first.report.complete).toBe(false);
    expect(first.kind === 'done' && first.report.totals.deleted).toBe(0);
    const report = second.jsonBody as Report;
    expect(report.complete).toBe(true);
    expect(report.totals.deleted).toBe(6);
    expect(fake.tags('team-b/slower')).toEqual(['b3', 'b4', 'latest']);
  });
});

describe('HTTP trigger behind Microsoft Entra ID', () => {
  it('runs for a caller whose token carries the app role and records who it was, never the token', async () => {
    seed('team-a/entra');
    const headers = { ...clientPrincipal(['Prune.Run']), 'x-ms-token-aad-access-token': 'eyJ.secret.token' };

    const response = await httpHandler(entraDeps())(post('{"repository": "team-a/entra"}', headers), context());

    expect(response.status).toBe(200);
    const caller = {
      kind: 'entra',
      name: 'alice@example.com',
      objectId: OBJECT_ID,
      appId: APP_ID,
      tenantId: TENANT_ID,
      roles: ['Prune.Run'],
    };
    expect((response.jsonBody as Report).caller).toEqual(caller);
    expect(runLine()).toMatchObject({ trigger: 'http', caller });
    expect(logs.join('\n')).not.toContain('eyJ.secret.token');
    expect(fake.tags('team-a/entra')).toEqual(['b2', 'b3', 'b4', 'latest']);
  });

  it('answers 403 naming the missing app role to a caller without it, and calls no registry', async () => {
    seed('team-a/no-role');

    const response = await httpHandler(entraDeps())(post('', clientPrincipal(['Reader'], 'mallory')), context());

    expect(response.status).toBe(403);
    expect((response.jsonBody as { error: string }).error).toMatch(/does not carry the app role "Prune\.Run"/);
    expect(fake.requests).toHaveLength(0);
    expect(logs.some((line) => line.includes('refused an on-demand run (403) for entra mallory'))).toBe(true);
  });

  it('answers 401 when Entra auth is configured but the request carries no client principal', async () => {
    const response = await httpHandler(entraDeps())(post(''), context());

    expect(response.status).toBe(401);
    expect((response.jsonBody as { error: string }).error).toMatch(/x-ms-client-principal absent/);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 401 to a client principal that is not base64 JSON with claims', async () => {
    const response = await httpHandler(entraDeps())(
      post('', { 'x-ms-client-principal': 'not-a-principal' }),
      context(),
    );

    expect(response.status).toBe(401);
    expect((response.jsonBody as { error: string }).error).toMatch(/x-ms-client-principal unreadable/);
    expect(fake.requests).toHaveLength(0);
  });

  it('ignores a client principal sent while Entra auth is off: the caller is only a function key holder', async () => {
    seed('team-a/forged');

    const response = await httpHandler(deps())(post('', clientPrincipal(['Prune.Run'], 'forged')), context());

    expect(response.status).toBe(200);
    expect((response.jsonBody as Report).caller).toEqual({ kind: 'function-key' });
    expect(runLine()).toMatchObject({ caller: { kind: 'function-key' } });
  });
});

describe('client principal', () => {
  it('reads an application caller (client credentials) from short claim names, without a name', () => {
    const principal = {
      auth_typ: 'aad',
      claims: [
        { typ: 'oid', val: OBJECT_ID },
        { typ: 'tid', val: TENANT_ID },
        { typ: 'azp', val: APP_ID },
        { typ: 'roles', val: 'Prune.Run' },
        { typ: 'roles', val: 'Prune.Run' },
      ],
    };

    const caller = parseClientPrincipal(Buffer.from(JSON.stringify(principal)).toString('base64'));

    expect(caller).toEqual({
      kind: 'entra',
      objectId: OBJECT_ID,
      appId: APP_ID,
      tenantId: TENANT_ID,
      roles: ['Prune.Run'],
    });
  });

  it('reads roles under the role claim type the principal names', () => {
    const principal = { role_typ: 'custom-role', claims: [{ typ: 'custom-role', val: 'Prune.Run' }] };

    const caller = parseClientPrincipal(Buffer.from(JSON.stringify(principal)).toString('base64'));

    expect(caller?.roles).toEqual(['Prune.Run']);
  });
});

describe('run locks', () => {
  it('gives back the locks it took when taking a later one fails', async () => {
    const released: string[] = [];
    const lock = {
      async acquire(key: string) {
        if (key === 'second.example.com') throw new Error('storage account unreachable');
        return { key, heldFor: () => true, lostReason: () => null, release: async () => void released.push(key) };
      },
    };
    const registries = [
      { name: 'first', provider: 'acr', endpoint: fake.endpoint, repositories: [{ match: 'x' }] },
      { name: 'second', provider: 'acr', endpoint: 'https://second.example.com', repositories: [{ match: 'x' }] },
    ];
    const config = JSON.stringify({ version: 1, dryRun: false, registries });

    const run = runOnAzure({ trigger: 'schedule', budgetMs: 60_000, log: silentLogger }, deps({ config, lock }));

    await expect(run).rejects.toThrow('storage account unreachable');
    expect(released).toEqual([new URL(fake.endpoint).host]);
  });
});

describe('timer trigger', () => {
  it('records its NCRONTAB schedule as the caller', async () => {
    seed('team-a/cron');
    const base = deps();

    await timerHandler({ ...base, env: { ...base.env, REGPRUNE_SCHEDULE: '0 0 3 * * *' } })(TIMER, context());

    expect(runLine()).toMatchObject({ trigger: 'schedule', caller: { kind: 'schedule', schedule: '0 0 3 * * *' } });
  });

  it('prunes every configured registry and logs one structured run line', async () => {
    seed('team-a/nightly');

    await timerHandler(deps())(TIMER, context());

    expect(fake.tags('team-a/nightly')).toEqual(['b2', 'b3', 'b4', 'latest']);
    expect(runLine()).toMatchObject({ caller: { kind: 'schedule', schedule: 'scheduledPrune timer' } });
    const runLines = logs.filter((line) => line.includes('"event":"regprune.run"'));
    expect(runLines).toHaveLength(1);
    expect(JSON.parse(runLines[0]!.slice(runLines[0]!.indexOf('{')))).toMatchObject({
      trigger: 'schedule',
      dryRun: false,
      complete: true,
    });
  });

  it('records the run in the history on the state store of the function app storage account', async () => {
    seed('team-a/history');
    const history = new StateHistoryStore({ store: appStateStore() });
    const before = (await history.read()).entries.length;

    await timerHandler(deps())(TIMER, context());

    const { entries } = await history.read();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)).toMatchObject({ dryRun: false });
  });

  it('logs and does nothing while another run holds the lock', async () => {
    seed('team-a/overlap');
    const other = await otherRun();

    await timerHandler(deps())(TIMER, context());
    await other?.release();

    expect(fake.requests).toHaveLength(0);
    expect(logs.some((line) => /already in progress for prod/.test(line))).toBe(true);
  });

  it('fails the invocation with the config error before any registry call', async () => {
    const running = timerHandler(deps({ config: 'version: 2' }))(TIMER, context());

    await expect(running).rejects.toThrow(/REGPRUNE_CONFIG is invalid: version/);
    expect(fake.requests).toHaveLength(0);
  });

  it('records the run metrics on the meter and flushes them', async () => {
    seed('team-a/metrics');
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    const provider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    });
    const sink: MetricSink = { meter: provider.getMeter('regprune'), flush: () => provider.forceFlush() };

    await timerHandler(deps({ metrics: async () => sink }))(TIMER, context());

    const names = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)));
    await provider.shutdown();
    expect(names).toContain('ImagesDeleted');
    expect(names).toContain('ApiCalls');
  });
});
