/**
 * Reads every configured usage source once per run, before any listing, and matches what they
 * report to the registries and repositories of the config (docs/design.md, "In-use protection").
 * Fail closed: a source that cannot be read blocks deletions in every registry it could protect,
 * unless it says `onSourceError: warn`.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { InUse } from '../plan/types.js';
import type { InUseSourceReport } from '../report/types.js';
import type { InUseSourceConfig } from './config.js';
import { parseReference, registryHosts } from './reference.js';
import type { ImageUse, UsageSource } from './types.js';

/** What the run knows about images in use. */
export interface InUseSnapshot {
  /** The in-use references of one repository, or undefined when nothing there is in use. */
  forRepository(registry: string, repository: string): InUse | undefined;
  /** Why deletions in this registry are blocked (an unreadable source that fails closed), or null. */
  blocked(registry: string): string | null;
  readonly sources: readonly InUseSourceReport[];
}

export const NO_USAGE: InUseSnapshot = { forRepository: () => undefined, blocked: () => null, sources: [] };

interface MutableInUse {
  readonly digests: Map<string, string[]>;
  readonly tags: Map<string, string[]>;
}

const DEFAULT_TIMEOUT_S = 60;
const MANIFEST_DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface CollectOptions {
  readonly sources: readonly { readonly config: InUseSourceConfig; readonly source: UsageSource }[];
  readonly registries: readonly { readonly name: string; readonly provider: string; readonly endpoint: string }[];
  readonly signal?: AbortSignal;
  readonly log: Logger;
  /** Monotonic milliseconds, for the durations in the report. */
  readonly clock?: () => number;
}

/** Reads all sources side by side, each within its timeout, and indexes what they found. */
export async function collectInUse(options: CollectOptions): Promise<InUseSnapshot> {
  const clock = options.clock ?? (() => performance.now());
  const allNames = options.registries.map((registry) => registry.name);
  const hosts = new Map<string, string[]>();
  for (const registry of options.registries) {
    for (const host of registryHosts(registry)) hosts.set(host, [...(hosts.get(host) ?? []), registry.name]);
  }
  const index = new Map<string, Map<string, MutableInUse>>();
  const blocked = new Map<string, string>();
  const reports = await Promise.all(
    options.sources.map(async ({ config, source }): Promise<InUseSourceReport> => {
      const protects = config.registries ?? allNames;
      const onSourceError = config.onSourceError ?? 'fail';
      const started = clock();
      const base = { name: config.name, kind: config.kind, onSourceError, protects };
      try {
        const uses = await readWithin(source, (config.timeout ?? DEFAULT_TIMEOUT_S) * 1000, options.signal);
        const matched = record(uses, hosts, protects, index);
        options.log.info(`in-use source "${config.name}": ${uses.length} image references, ${matched} in scope`);
        return { ...base, references: uses.length, matched, apiCalls: source.calls(), durationMs: clock() - started };
      } catch (error) {
        const why = `in-use source "${config.name}" (${config.kind}) could not be read: ${describeError(error)}`;
        if (onSourceError === 'fail') {
          for (const registry of protects) if (!blocked.has(registry)) blocked.set(registry, why);
          options.log.error(`${why}; nothing is deleted in ${protects.join(', ')} (onSourceError: fail)`);
        } else {
          options.log.warn(`${why}; going on without it (onSourceError: warn)`);
        }
        return {
          ...base,
          references: 0,
          matched: 0,
          apiCalls: source.calls(),
          durationMs: clock() - started,
          error: describeError(error),
        };
      }
    }),
  );
  return {
    forRepository: (registry, repository) => index.get(registry)?.get(repository),
    blocked: (registry) => blocked.get(registry) ?? null,
    sources: reports,
  };
}

/** The source's read, ended by its timeout or the host's stop even when it ignores the abort. */
async function readWithin(source: UsageSource, timeoutMs: number, hostSignal?: AbortSignal): Promise<ImageUse[]> {
  const controller = new AbortController();
  const onHostStop = () => controller.abort(hostSignal?.reason);
  hostSignal?.addEventListener('abort', onHostStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs / 1000} s; raise its timeout or check the network`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    if (hostSignal?.aborted) throw new Error(`the run was stopped before it was read`);
    return await Promise.race([source.read(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
    hostSignal?.removeEventListener('abort', onHostStop);
  }
}

/** Files each use under the registries it names; returns how many uses named one. */
function record(
  uses: readonly ImageUse[],
  hosts: ReadonlyMap<string, readonly string[]>,
  protects: readonly string[],
  index: Map<string, Map<string, MutableInUse>>,
): number {
  let matched = 0;
  for (const use of uses) {
    const reference = parseReference(use.reference);
    if (reference === null) continue;
    const registries = (hosts.get(reference.host) ?? []).filter((name) => protects.includes(name));
    if (registries.length === 0) continue;
    matched++;
    const digests = [reference.digest, use.resolvedDigest].filter(
      (digest): digest is string => typeof digest === 'string' && MANIFEST_DIGEST.test(digest),
    );
    for (const registry of registries) {
      const repositories = index.get(registry) ?? new Map<string, MutableInUse>();
      index.set(registry, repositories);
      const entry = repositories.get(reference.repository) ?? { digests: new Map(), tags: new Map() };
      repositories.set(reference.repository, entry);
      for (const digest of digests) add(entry.digests, digest, use.user);
      if (reference.tag !== null) add(entry.tags, reference.tag, use.user);
    }
  }
  return matched;
}

function add(map: Map<string, string[]>, key: string, user: string): void {
  const users = map.get(key);
  if (users === undefined) map.set(key, [user]);
  else if (!users.includes(user)) users.push(user);
}
