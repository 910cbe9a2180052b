/**
 * The fault matrix's bench (issue 11, item 7): one seeded, swept registry storage as a template;
 * per row a fresh registry copied from it (same digests), a fault proxy in front, and a config
 * pointing the CLI at the proxy; a reference run that nothing disturbed; and the invariants every
 * row asserts after its runs and `garbage-collect`:
 *  - every protected tag (kept by the plan, pinned, or moved/pushed by the test) resolves to the
 *    digest it should and pulls completely;
 *  - no blob remains that no tag reaches, and no manifest stays linked that no tag reaches;
 *  - where the test changed nothing itself, the blob store and the tags equal the reference run's;
 *  - the next run converges: a plan deletes nothing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../lib/config/load.js';
import { prune } from '../../lib/run/prune.js';
import type { Report } from '../../lib/report/types.js';
import { reachability, storeDifferences, storeState, type StoreState } from './blob-store.js';
import { spawnCli, type CliExit, type CliProcess } from './cli-process.js';
import {
  startFaultProxy,
  type FaultProxy,
  type ManifestKind,
  type ProxiedRequest,
  type ProxyHooks,
} from './fault-proxy.js';
import { seedFaultRegistry, type FaultSeed } from './fault-seed.js';
import { RegistryReader } from './pull.js';
import { startRegistry, type RunningRegistry } from './registry.js';

/** A tag that must survive, and the digest it must resolve to. */
export interface ProtectedTag {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
}

export interface InvariantReport {
  /** Protected tags that do not resolve to their digest or do not pull completely. */
  readonly protectedTagProblems: readonly string[];
  /** `repository@digest` linked on disk that no tag reaches (invisible to the API, never pruned). */
  readonly strandedManifests: readonly string[];
  /** Blobs left after garbage-collect that no tag reaches. */
  readonly strayBlobs: readonly string[];
  /** Blobs a reached manifest names that the store lacks. */
  readonly missingBlobs: readonly string[];
  /** How blobs and tags differ from the undisturbed reference run (empty when not compared). */
  readonly differencesFromReference: readonly string[];
  /** `repo@digest tags` a plan after everything would still delete (empty: converged). */
  readonly plannedAfter: readonly string[];
}

export interface FaultRow {
  readonly registry: RunningRegistry;
  readonly proxy: FaultProxy;
  /** Reads the registry directly (not through the proxy). */
  readonly reader: RegistryReader;
  readonly configPath: string;
  /** The row's own state store (`REGPRUNE_STATE`): its CLI runs' lock and history. */
  readonly stateDir: string;
  /** Starts `prune --no-dry-run --json` through the proxy; `current` is then this process. */
  prune(): CliProcess;
  /** The CLI process started last. */
  readonly current: CliProcess | null;
  /** Drops the proxy's rules and hooks, runs a clean prune to the end and returns its exit. */
  cleanPrune(): Promise<CliExit>;
  /**
   * Garbage-collects, then checks every invariant. `protectedTags` defaults to the reference run's
   * kept tags; `compareToReference` (default true) only makes sense when the test pushed nothing.
   */
  verify(options?: { protectedTags?: readonly ProtectedTag[]; compareToReference?: boolean }): Promise<InvariantReport>;
  dispose(): Promise<void>;
}

/** The undisturbed run every row is compared with. */
export interface FaultReference {
  /** Kept tags of the reference run, with the digests they resolved to before it. */
  readonly protectedTags: readonly ProtectedTag[];
  /** The reference run's report, and its store after garbage-collect. */
  readonly report: Report;
  readonly state: StoreState;
  /** Deletions the reference run made, by manifest kind (to pick a point: "the last signature"). */
  readonly deletesByKind: ReadonlyMap<ManifestKind, number>;
  /** The invariants on the reference itself (all empty unless the bench or the CLI is broken). */
  readonly invariants: InvariantReport;
}

export interface FaultBench {
  readonly seed: FaultSeed;
  /**
   * The reference run (started once, on first call, on its own registry): rows may run alongside
   * it, and their `verify` waits for it.
   */
  reference(): Promise<FaultReference>;
  /** A fresh registry with the seed, a proxy in front, a config for it. */
  newRow(name: string): Promise<FaultRow>;
  dispose(): Promise<void>;
}

/** Parses `--json` output, failing with the CLI's stderr when stdout is not a report. */
export function reportOf(exit: CliExit): Report {
  try {
    return JSON.parse(exit.stdout) as Report;
  } catch {
    throw new Error(
      `CLI ended (code ${exit.code}, signal ${exit.signal}) without a JSON report on stdout.\n` +
        `stdout: ${exit.stdout.slice(0, 2000)}\nstderr: ${exit.stderr.slice(-3000)}`,
    );
  }
}

/** `repo@digest tags` of every deletion a report made (or, in a plan, would make), sorted. */
export function deletionLines(report: Report): string[] {
  return report.registries
    .flatMap((registry) => registry.repositories)
    .flatMap((repository) => repository.deleted.map((entry) => `${repository.name}@${entry.digest} ${entry.tags}`))
    .sort();
}

/** Every tag of every kept entry in a report, with the digest `tags` (`repository:tag` → digest) gives it. */
export function keptTags(report: Report, tags: ReadonlyMap<string, string>): ProtectedTag[] {
  const out: ProtectedTag[] = [];
  for (const repository of report.registries.flatMap((registry) => registry.repositories)) {
    for (const entry of repository.kept) {
      for (const tag of entry.tags) {
        const digest = tags.get(`${repository.name}:${tag}`);
        if (digest === undefined) throw new Error(`kept tag ${repository.name}:${tag} was not in the seed`);
        out.push({ repository: repository.name, tag, digest });
      }
    }
  }
  return out.sort((a, b) => `${a.repository}:${a.tag}`.localeCompare(`${b.repository}:${b.tag}`));
}

/** Problems with protected tags: not resolving to their digest, or not pulling completely. */
export async function protectedTagProblems(reader: RegistryReader, tags: readonly ProtectedTag[]): Promise<string[]> {
  const problems = await Promise.all(
    tags.map(async ({ repository, tag, digest }): Promise<string | null> => {
      const resolved = await reader.resolve(repository, tag);
      if (resolved !== digest)
        return `${repository}:${tag} resolves to ${resolved ?? 'nothing (404)'}, expected ${digest}`;
      try {
        await reader.pull(repository, tag);
        return null;
      } catch (error) {
        return `${repository}:${tag} does not pull: ${error instanceof Error ? error.message : String(error)}`;
      }
    }),
  );
  return problems.filter((problem) => problem !== null);
}

function configFor(endpoint: string, seed: FaultSeed): unknown {
  return {
    version: 1,
    dryRun: false,
    defaults: { minAge: '0s', untagged: 'keep' },
    registries: [{ name: 'local', provider: 'oci', endpoint, repositories: seed.rules }],
  };
}

/** Seeds a template registry (swept) and hands out rows and the reference run. */
export async function startFaultBench(): Promise<FaultBench> {
  const template = await startRegistry({ accessLog: false });
  try {
    const seed = await seedFaultRegistry(template.url);
    // Sweep once so that every row starts from a store holding only what the tags reach.
    await template.garbageCollect();
    const seededTags = (await storeState(template.storageDir)).tags;
    await template.stop();

    let referenceRun: Promise<FaultReference> | null = null;
    const reference = (): Promise<FaultReference> => {
      referenceRun ??= runReference();
      return referenceRun;
    };

    const makeRow = async (name: string, isReference = false): Promise<FaultRow> => {
      const registry = await startRegistry({ copyStorageFrom: template.storageDir, accessLog: false });
      const proxy = await startFaultProxy({
        upstream: registry.url,
        classify: (repository, digest) => seed.kinds.get(`${repository}@${digest}`),
      });
      const configPath = join(registry.dir, `${name.replace(/\W+/g, '-')}.json`);
      await writeFile(configPath, JSON.stringify(configFor(proxy.url, seed), null, 2));
      const reader = new RegistryReader(registry.url);
      // Inside the registry's directory, so it goes with the row, never the real ~/.cache.
      const stateDir = join(registry.dir, 'state');
      let current: CliProcess | null = null;
      const row: FaultRow = {
        registry,
        proxy,
        reader,
        configPath,
        stateDir,
        prune() {
          // A state directory per row: the next run finds the journal (and the lock) the killed one left.
          current = spawnCli(['prune', '--config', configPath, '--no-dry-run', '--json'], {
            env: { REGPRUNE_STATE: stateDir },
          });
          return current;
        },
        get current() {
          return current;
        },
        async cleanPrune() {
          proxy.reset();
          return row.prune().done;
        },
        async verify(options = {}) {
          proxy.reset();
          // What `regprune plan` prints, in process: a CLI start costs more CPU than the plan. garbage-collect
          // changes no tag and no linked manifest, so the plan may run before it.
          const plan = await prune({ config: parseConfig(configFor(proxy.url, seed)), now: new Date(), dryRun: true });
          await registry.garbageCollect();
          const state = await storeState(registry.storageDir);
          const reached = await reachability(registry.storageDir, state);
          const expected = isReference ? null : await reference();
          const tags = options.protectedTags ?? expected?.protectedTags ?? [];
          return {
            protectedTagProblems: await protectedTagProblems(reader, tags),
            strandedManifests: reached.strandedManifests,
            strayBlobs: reached.strayBlobs,
            missingBlobs: reached.missing,
            differencesFromReference:
              expected && options.compareToReference !== false ? storeDifferences(state, expected.state) : [],
            plannedAfter: deletionLines(plan),
          };
        },
        async dispose() {
          current?.kill('SIGKILL');
          await proxy.close();
          await registry.dispose();
        },
      };
      return row;
    };

    const runReference = async (): Promise<FaultReference> => {
      const row = await makeRow('reference', true);
      try {
        const report = reportOf(await row.prune().done);
        const protectedTags = keptTags(report, seededTags);
        const invariants = await row.verify({ protectedTags });
        const state = await storeState(row.registry.storageDir);
        const deletesByKind = new Map<ManifestKind, number>();
        for (const line of deletionLines(report)) {
          const kind = seed.kinds.get(line.slice(0, line.indexOf(' '))) ?? 'unknown';
          deletesByKind.set(kind, (deletesByKind.get(kind) ?? 0) + 1);
        }
        return { protectedTags, report, state, deletesByKind, invariants };
      } finally {
        await row.dispose();
      }
    };

    return {
      seed,
      reference,
      newRow: (name) => makeRow(name),
      async dispose() {
        await referenceRun?.catch(() => undefined);
        await template.dispose();
      },
    };
  } catch (error) {
    await template.dispose();
    throw error;
  }
}

/** True for the request a hook should act on: the `nth` request with this key (`DELETE index`…). */
export function nthRequest(key: string, nth: number): (request: ProxiedRequest) => boolean {
  return (request) => request.key === key && request.nth === nth;
}

/**
 * Hooks that stop the registry (SIGTERM: docker-registry exits without draining) when `trigger`
 * first matches, let the proxy answer `downAnswers` requests with 502 as a load balancer would,
 * then start the registry again before forwarding the next request. Counting answers, not time,
 * makes the outage the same length on a fast and a slow machine.
 */
export function registryOutage(
  row: Pick<FaultRow, 'registry' | 'proxy'>,
  trigger: (request: ProxiedRequest) => boolean,
  downAnswers: number,
): ProxyHooks & { readonly state: () => 'before' | 'down' | 'restarted' } {
  let state: 'before' | 'down' | 'restarted' = 'before';
  let stopping: Promise<void> | null = null;
  let restarting: Promise<void> | null = null;
  const downSoFar = () => row.proxy.log.filter((entry) => entry.outcome === 'upstream-down').length;
  return {
    state: () => state,
    async onRequest(request) {
      if (state === 'before' && trigger(request)) {
        state = 'down';
        // Down between requests: the ones in flight (other repositories run side by side) finish first,
        // and none starts meanwhile. A registry killed in the middle of a DELETE is another fault.
        stopping = row.proxy.drained().then(() => row.registry.stop());
        await stopping;
        return;
      }
      if (state === 'down' && stopping !== null) await stopping;
      if (state === 'down' && downSoFar() >= downAnswers) {
        restarting ??= row.registry.start().then(() => {
          state = 'restarted';
        });
        await restarting;
      }
    },
  };
}

/**
 * Hooks that send `signal` (default SIGKILL) to the row's current CLI process at the first request
 * matching `trigger`: `before` it reaches the registry or `after` the registry acted on it (the
 * client never hears the answer). After SIGKILL the proxy waits for the process to end, and drops
 * the request when `before`, as a killed client's request would be lost. After SIGINT or SIGTERM
 * the request goes on: a graceful stop lets the requests in flight finish.
 */
export function killCliAt(
  row: Pick<FaultRow, 'current'>,
  trigger: (request: ProxiedRequest) => boolean,
  options: { readonly signal?: NodeJS.Signals; readonly when: 'before' | 'after' },
): ProxyHooks & { readonly fired: () => boolean } {
  let fired = false;
  const kill = async (request: ProxiedRequest): Promise<boolean> => {
    if (fired || !trigger(request)) return false;
    const cli = row.current;
    if (cli === null) throw new Error('killCliAt: no CLI process is running');
    fired = true;
    const signal = options.signal ?? 'SIGKILL';
    cli.kill(signal);
    if (signal !== 'SIGKILL') return false;
    await cli.done.catch(() => undefined);
    return true;
  };
  return {
    fired: () => fired,
    async beforeForward(request) {
      if (options.when === 'before' && (await kill(request))) return 'drop';
      return undefined;
    },
    async afterForward(request) {
      if (options.when === 'after') await kill(request);
    },
  };
}
