/**
 * `regprune import acr-purge "COMMAND LINE"`: an `acr purge` command as a regprune config, each
 * --filter a rule as a one-off run builds it (lib/cli/one-off.ts). What regprune does differently
 * gets a NOT EXACT comment. Flags: /work/shared/REGISTRY-FACTS.md, ACR.
 */
import { parseDuration } from '../../config/duration.js';
import { UsageError } from '../../errors.js';
import { filterRule, parseFilter, type FilterRetention } from '../one-off.js';
import type { ImportNote, ImportResult } from './result.js';

/** A placeholder ACR endpoint, for when neither --endpoint nor the command's --registry names one. */
export const ACR_PLACEHOLDER = 'https://myregistry.azurecr.io';

const COMMAND = 'import acr-purge';

/** Splits a command line as a POSIX shell would: quotes, backslash escapes, whitespace. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word = (word ?? '') + ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word = (word ?? '') + line[++i];
      else word = (word ?? '') + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote !== null) throw new UsageError(`${COMMAND}: the command line has an unclosed ${quote} quote`);
  if (word !== null) words.push(word);
  return words;
}

interface PurgeFlags {
  filters: string[];
  ago?: string;
  keep?: number;
  untagged: boolean;
  untaggedOnly: boolean;
  dryRun: boolean;
  concurrency?: number;
  includeLocked: boolean;
  registry?: string;
}

const VALUE_FLAGS = new Set(['--filter', '-f', '--ago', '--keep', '--concurrency', '--registry', '-r']);

function numberOf(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${COMMAND}: ${flag} ${JSON.stringify(text)}: expected a whole number`);
  return Number(text);
}

function purgeFlags(words: readonly string[]): PurgeFlags {
  // `acr purge …`, `az acr run --cmd "acr purge …"` pasted whole: start after `purge`.
  const start = words.indexOf('purge') + 1;
  const flags: PurgeFlags = { filters: [], untagged: false, untaggedOnly: false, dryRun: false, includeLocked: false };
  for (let i = start; i < words.length; i++) {
    const raw = words[i]!;
    const eq = raw.indexOf('=');
    const name = raw.startsWith('--') && eq !== -1 ? raw.slice(0, eq) : raw;
    let value: string | undefined = raw.startsWith('--') && eq !== -1 ? raw.slice(eq + 1) : undefined;
    if (VALUE_FLAGS.has(name) && value === undefined) {
      value = words[++i];
      if (value === undefined) throw new UsageError(`${COMMAND}: ${name} is missing its value`);
    }
    switch (name) {
      case '--filter':
      case '-f':
        flags.filters.push(value!);
        break;
      case '--ago':
        flags.ago = value!;
        break;
      case '--keep':
        flags.keep = numberOf(name, value!);
        break;
      case '--concurrency':
        flags.concurrency = numberOf(name, value!);
        break;
      case '--registry':
      case '-r':
        flags.registry = value!;
        break;
      case '--untagged':
        flags.untagged = true;
        break;
      case '--untagged-only':
        flags.untaggedOnly = true;
        break;
      case '--dry-run':
        flags.dryRun = true;
        break;
      case '--include-locked':
        flags.includeLocked = true;
        break;
      default:
        throw new UsageError(
          `${COMMAND}: ${JSON.stringify(raw)} is not an acr purge flag regprune knows; expected --filter, --ago, ` +
            '--keep, --untagged, --untagged-only, --dry-run, --concurrency, --include-locked or --registry',
        );
    }
  }
  if (flags.filters.length === 0) {
    throw new UsageError(`${COMMAND}: the command has no --filter; acr purge needs one, like --filter 'app/.*:.*'`);
  }
  return flags;
}

/** acr purge's --ago (Go-style `2d3h6m`) as a regprune duration. */
function agoDuration(text: string): string {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`${COMMAND}: --ago ${JSON.stringify(text)}: ${parsed.error}`);
  return text;
}

/** The endpoint: --endpoint, else the command's --registry (a name or a login server), else a placeholder. */
function endpointOf(
  given: string | undefined,
  registry: string | undefined,
): { endpoint: string; placeholder: boolean } {
  if (given !== undefined) return { endpoint: given, placeholder: false };
  if (registry !== undefined && /^[A-Za-z0-9-]+(\.azurecr\.[a-z.]+)?$/.test(registry)) {
    return { endpoint: `https://${registry.includes('.') ? registry : `${registry}.azurecr.io`}`, placeholder: false };
  }
  return { endpoint: ACR_PLACEHOLDER, placeholder: true };
}

/** Converts one `acr purge` command line. */
export function importAcrPurge(line: string, options: { readonly endpoint?: string }): ImportResult {
  const words = shellWords(line);
  // `az acr run --cmd "acr purge …" /dev/null`: the purge command is one quoted word.
  const inner = words.includes('purge') ? undefined : words.find((word) => /^\s*acr\s+purge\b/.test(word));
  const flags = purgeFlags(inner === undefined ? words : shellWords(inner));
  const notes: ImportNote[] = [];
  const registryPath = ['registries', 0];
  const retention: FilterRetention = {
    ...(flags.keep !== undefined ? { keep: flags.keep } : { keep: 0 }),
    ...(flags.ago !== undefined ? { olderThan: agoDuration(flags.ago) } : {}),
  };
  const repositories = flags.filters.map((text) =>
    flags.untaggedOnly
      ? { match: parseFilter(COMMAND, text).repository, keep: 1_000_000_000 }
      : filterRule(parseFilter(COMMAND, text), retention),
  );
  repositories.forEach((rule, index) => {
    const filter = flags.filters[index]!;
    notes.push({ path: [...registryPath, 'repositories', index], text: `from --filter '${filter}'`, inexact: false });
    if ('tags' in rule) {
      notes.push({
        path: [...registryPath, 'repositories', index, 'keep'],
        text: 'acr purge leaves tags its TAG_REGEX does not match: regprune keeps every image carrying one',
        inexact: false,
      });
    }
  });
  const { endpoint, placeholder } = endpointOf(options.endpoint, flags.registry);
  if (placeholder)
    notes.push({
      path: [...registryPath, 'endpoint'],
      text: 'placeholder: your registry (--endpoint)',
      inexact: false,
    });
  const registry: Record<string, unknown> = { name: 'acr', provider: 'acr', endpoint, repositories };
  if (flags.concurrency !== undefined) {
    registry.concurrency = Math.min(Math.max(flags.concurrency, 1), 64);
    if (registry.concurrency !== flags.concurrency)
      notes.push({
        path: [...registryPath, 'concurrency'],
        text: `--concurrency ${flags.concurrency} is outside 1–64`,
        inexact: true,
      });
  }
  if (flags.includeLocked) {
    notes.push({
      path: [],
      text: '--include-locked: regprune never deletes a locked image (nor unlocks one)',
      inexact: true,
    });
  }
  if (flags.untaggedOnly) {
    notes.push({
      path: [],
      text: '--untagged-only: each rule keeps every tagged image and deletes untagged ones',
      inexact: false,
    });
  }
  if (flags.ago !== undefined && (flags.untagged || flags.untaggedOnly)) {
    notes.push({ path: [], text: 'untagged manifests too must be older than --ago here', inexact: false });
  }
  notes.push({
    path: ['dryRun'],
    text: flags.dryRun
      ? 'from --dry-run'
      : 'acr purge deletes at once; this config plans until you set dryRun: false (or run prune --no-dry-run)',
    inexact: false,
  });
  notes.push({
    path: ['defaults', 'minAge'],
    text: 'acr purge has no grace period; regprune keeps images younger than this. 0s matches acr purge',
    inexact: false,
  });
  notes.push({
    path: ['defaults', 'pinned'],
    text: 'acr purge pins nothing; add tags (latest, release-*) regprune must never delete',
    inexact: false,
  });
  return {
    data: {
      version: 1,
      dryRun: true,
      defaults: {
        minAge: '1d',
        pinned: [],
        untagged: flags.untagged || flags.untaggedOnly ? 'delete' : 'keep',
      },
      registries: [registry],
    },
    notes,
  };
}
