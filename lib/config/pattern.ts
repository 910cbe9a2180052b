/**
 * Name patterns for repositories and tags: a glob (`team-a/**`, `release-*`) or a `/regex/`.
 * In globs `*` and `?` stop at `/`, `**` crosses it, everything else is literal, and the whole
 * name must match. A regex is used as written (unanchored unless it says `^…$`).
 *
 * No pattern may hang a run (docs/design.md, "Patterns"): every `/regex/` runs on RE2JS, a
 * linear-time engine (no backreferences, no lookaround; those are refused with the reason), and a
 * glob runs on V8's backtracking engine only while it has at most two wildcards, whose worst case
 * is quadratic in the name's length; a glob with more runs on RE2JS too.
 */
import { RE2JS } from 're2js';

export interface Pattern {
  /** As the user wrote it, for reports and messages. */
  readonly source: string;
  /** True when the whole name matches (a glob), or the regex is found in it (a /regex/). */
  test(name: string): boolean;
}

export type CompiledPattern = { ok: true; pattern: Pattern } | { ok: false; error: string };

/** Longest pattern a request body or schedule input may carry (config patterns are not capped). */
export const MAX_REQUEST_PATTERN_LENGTH = 256;

/** Globs with more wildcards than this leave V8's backtracking engine for the linear one. */
const MAX_BACKTRACKING_WILDCARDS = 2;

const cache = new Map<string, CompiledPattern>();

/** A compiled pattern, or an error message saying what is wrong. Compiled once per source. */
export function compilePattern(source: string): CompiledPattern {
  let compiled = cache.get(source);
  if (compiled === undefined) {
    compiled = compile(source);
    cache.set(source, compiled);
  }
  return compiled;
}

/**
 * A pattern from an untrusted caller (an HTTP body, a schedule input): a glob only, at most
 * MAX_REQUEST_PATTERN_LENGTH characters. Regexes belong in the config, which its owner reviews.
 */
export function compileRequestPattern(source: string): CompiledPattern {
  if (source.length > MAX_REQUEST_PATTERN_LENGTH) {
    return {
      ok: false,
      error: `pattern is ${source.length} characters long; at most ${MAX_REQUEST_PATTERN_LENGTH} are accepted`,
    };
  }
  if (source.startsWith('/')) {
    return {
      ok: false,
      error:
        `"${source}" looks like a /regex/; a request accepts globs only (* ? **), regexes belong in the ` +
        'config file',
    };
  }
  return compilePattern(source);
}

function compile(source: string): CompiledPattern {
  if (source.length === 0) return { ok: false, error: 'expected a glob or /regex/, got an empty string' };
  if (source.length >= 2 && source.startsWith('/') && source.endsWith('/')) return compileRegex(source);
  if (source.startsWith('/')) {
    // No name starts with "/", so such a glob could never match: it is a mistyped /regex/, most
    // often one with flags (/^latest$/i). Silently matching nothing would unpin tags.
    return {
      ok: false,
      error:
        `"${source}" is neither a glob nor a /regex/ (regex flags are not supported); write /regex/ without ` +
        `flags, or a glob`,
    };
  }
  if (/[[\]{}]/.test(source)) {
    return { ok: false, error: `glob "${source}" uses [ ] or { }, which are not supported; use * ? ** or a /regex/` };
  }
  const regex = globToRegExpSource(source);
  const wildcards = source.match(/\*+/g)?.length ?? 0;
  if (wildcards <= MAX_BACKTRACKING_WILDCARDS) {
    const v8 = new RegExp(regex);
    return { ok: true, pattern: { source, test: (name) => v8.test(name) } };
  }
  const linear = RE2JS.compile(regex);
  return { ok: true, pattern: { source, test: (name) => linear.test(name) } };
}

function compileRegex(source: string): CompiledPattern {
  const body = source.slice(1, -1);
  try {
    // Validate with V8 first: its messages are the ones users know, and RE2 accepts a few forms
    // (\C, \pN) that JavaScript reads differently.
    new RegExp(body);
  } catch (error) {
    return { ok: false, error: `invalid regex ${source}: ${(error as Error).message}` };
  }
  try {
    const linear = RE2JS.compile(body);
    return { ok: true, pattern: { source, test: (name) => linear.test(name) } };
  } catch (error) {
    return {
      ok: false,
      error:
        `regex ${source} is not supported by the linear-time engine (${(error as Error).message}); ` +
        'backreferences and lookarounds can take exponential time, so rewrite it without them',
    };
  }
}

function globToRegExpSource(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        // `**/` also matches zero segments: `a/**/b` matches `a/b`.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (ch === '?') {
      out += '[^/]';
    } else {
      out += ch.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return `${out}$`;
}

/** True when any pattern matches the name. */
export function matchesAny(name: string, patterns: readonly Pattern[]): boolean {
  for (const pattern of patterns) if (pattern.test(name)) return true;
  return false;
}
