/**
 * One-off runs without a config file, as `acr purge` users expect (docs/cli.md, "One-off runs"):
 * `--registry-url`, `--filter 'REPO_REGEX:TAG_REGEX'`, `--keep`, `--older-than`, `--untagged`,
 * `--pinned`. The flags become an in-memory config that goes through the same schema as a file.
 */
import { parseConfig } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { BUILTIN_RETENTION } from '../config/policy.js';
import { ConfigError, UsageError } from '../errors.js';

/** parseArgs options shared by `plan` and `prune` for one-off runs. */
export const ONE_OFF_OPTIONS = {
  'registry-url': { type: 'string' },
  provider: { type: 'string' },
  filter: { type: 'string', multiple: true },
  keep: { type: 'string' },
  'older-than': { type: 'string' },
  'min-age': { type: 'string' },
  untagged: { type: 'boolean' },
  pinned: { type: 'string', multiple: true },
} as const;

/** The one-off flags as parseArgs returns them. */
export interface OneOffFlags {
  readonly 'registry-url'?: string | undefined;
  readonly provider?: string | undefined;
  readonly filter?: string[] | undefined;
  readonly keep?: string | undefined;
  readonly 'older-than'?: string | undefined;
  readonly 'min-age'?: string | undefined;
  readonly untagged?: boolean | undefined;
  readonly pinned?: string[] | undefined;
}

/** Which one-off flags were given (for "use --config or these, not both"). */
export function oneOffFlagsGiven(flags: OneOffFlags): string[] {
  return Object.entries(flags)
    .filter(([name, value]) => name in ONE_OFF_OPTIONS && value !== undefined)
    .map(([name]) => `--${name}`);
}

/** Where a one-off config says its source is in messages. */
export const ONE_OFF_SOURCE = '(command line)';

/** A whole number ≥ 0 from a flag, or a UsageError that says what to write. */
export function wholeNumberFlag(command: string, flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${command}: ${flag} ${JSON.stringify(text)}: expected a whole number ≥ 0, like ${flag} 5`);
  }
  return Number(text);
}

function durationFlag(command: string, flag: string, text: string): string {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`${command}: ${flag} ${JSON.stringify(text)}: ${parsed.error}`);
  return text;
}

type Provider = 'oci' | 'acr' | 'ecr';

/** The provider a registry URL names: `*.azurecr.io` is ACR, `*.dkr.ecr.*.amazonaws.com` ECR, else OCI. */
export function providerForUrl(url: URL): Provider {
  if (/\.azurecr\.(io|us|cn)$/.test(url.hostname)) return 'acr';
  if (/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname)) return 'ecr';
  return 'oci';
}

function registryUrl(command: string, text: string): URL {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `https://${text}`;
  try {
    return new URL(withScheme);
  } catch {
    throw new UsageError(
      `${command}: --registry-url ${JSON.stringify(text)} is not a URL; ` +
        'write --registry-url https://registry.example.com',
    );
  }
}

/**
 * `REPO_REGEX:TAG_REGEX` → the rule's repository pattern and tag pattern, both anchored regexes
 * as `acr purge` anchors them. Split at the first colon: repository names never hold one.
 */
export function parseFilter(command: string, text: string): { repository: string; tag: string | null } {
  const colon = text.indexOf(':');
  const repository = colon === -1 ? text : text.slice(0, colon);
  const tag = colon === -1 ? '' : text.slice(colon + 1);
  if (repository === '') {
    throw new UsageError(
      `${command}: --filter ${JSON.stringify(text)} has no repository regex; write --filter 'REPO_REGEX:TAG_REGEX', ` +
        `like --filter 'team-a/.*:.*'`,
    );
  }
  return { repository: `/^(?:${repository})$/`, tag: tag === '' || tag === '.*' ? null : `/^(?:${tag})$/` };
}

/** The rule's own `keep` when a --filter has a TAG_REGEX: every image with a tag the regex does not match. */
export const KEEP_ALL = 1_000_000_000;

/** Retention a one-off run or an imported `acr purge` sets on each --filter's rule. */
export interface FilterRetention {
  readonly keep?: number;
  readonly olderThan?: string;
  readonly minAge?: string;
}

/**
 * The config rule of one --filter. A TAG_REGEX is a tag class with the retention; the rule's own
 * class, which holds the tags the regex does not match, keeps everything (acr purge leaves those
 * tags alone, and regprune deletes whole manifests: an image with such a tag stays).
 */
export function filterRule(filter: { repository: string; tag: string | null }, retention: FilterRetention) {
  if (filter.tag === null) return { match: filter.repository, ...retention };
  return {
    match: filter.repository,
    ...retention,
    keep: KEEP_ALL,
    tags: [{ match: filter.tag, keep: retention.keep ?? BUILTIN_RETENTION.keep }],
  };
}

/**
 * The in-memory config of a one-off run. Bad flags are UsageErrors naming the flag; the result is
 * validated by the same schema as a config file (a ConfigError then names the flag it came from).
 */
export function oneOffConfig(command: string, flags: OneOffFlags): Config {
  const urlText = flags['registry-url'];
  if (urlText === undefined || urlText === '') {
    throw new UsageError(
      `${command}: give --config FILE, or --registry-url URL and --filter 'REPO_REGEX:TAG_REGEX' for a one-off run; ` +
        `see regprune ${command} --help`,
    );
  }
  if (flags.filter === undefined || flags.filter.length === 0) {
    throw new UsageError(
      `${command}: --registry-url needs at least one --filter 'REPO_REGEX:TAG_REGEX' saying which repositories ` +
        `to prune, like --filter 'app/.*:.*'`,
    );
  }
  const url = registryUrl(command, urlText);
  const given = flags.provider;
  if (given !== undefined && given !== 'oci' && given !== 'acr' && given !== 'ecr') {
    throw new UsageError(`${command}: --provider ${JSON.stringify(given)}: expected oci, acr or ecr`);
  }
  const provider: Provider = given ?? providerForUrl(url);
  const retention = {
    ...(flags.keep !== undefined ? { keep: wholeNumberFlag(command, '--keep', flags.keep) } : {}),
    ...(flags['older-than'] !== undefined
      ? { olderThan: durationFlag(command, '--older-than', flags['older-than']) }
      : {}),
    ...(flags['min-age'] !== undefined ? { minAge: durationFlag(command, '--min-age', flags['min-age']) } : {}),
  };
  const repositories = flags.filter.map((text) => filterRule(parseFilter(command, text), retention));
  const name = url.hostname.replace(/[^A-Za-z0-9._-]/g, '-') || 'registry';
  const endpoint = provider === 'ecr' ? url.host : `${url.protocol}//${url.host}`;
  const data = {
    version: 1,
    dryRun: true,
    defaults: {
      ...(flags.untagged ? { untagged: 'delete' } : {}),
      ...(flags.pinned !== undefined ? { pinned: ['latest', ...flags.pinned] } : {}),
    },
    registries: [{ name, provider, endpoint, repositories }],
  };
  try {
    return parseConfig(data, ONE_OFF_SOURCE);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(`${command}: ${flagWords(error.message)}`, { cause: error });
  }
}

/** A schema message about the in-memory config, said in terms of the flags it came from. */
export function flagWords(message: string): string {
  return message
    .replace(/registries\[0\]\.endpoint/g, '--registry-url')
    .replace(
      /registries\[0\]\.repositories\[(\d+)\]\.tags\[0\]\.match/g,
      (_, i: string) => `--filter #${Number(i) + 1} TAG_REGEX`,
    )
    .replace(
      /registries\[0\]\.repositories\[(\d+)\]\.match/g,
      (_, i: string) => `--filter #${Number(i) + 1} REPO_REGEX`,
    )
    .replace(/defaults\.pinned\[\d+\]/g, '--pinned');
}
