/**
 * Name patterns for repositories and tags: a glob (`team-a/**`, `release-*`) or a `/regex/`.
 * In globs `*` and `?` stop at `/`, `**` crosses it, everything else is literal, and the whole
 * name must match. A regex is used as written (unanchored unless it says `^…$`).
 */

export interface Pattern {
  /** As the user wrote it, for reports and messages. */
  readonly source: string;
  readonly regex: RegExp;
}

/** A compiled pattern, or an error message saying what is wrong. */
export function compilePattern(source: string): { ok: true; pattern: Pattern } | { ok: false; error: string } {
  if (source.length === 0) return { ok: false, error: 'expected a glob or /regex/, got an empty string' };
  if (source.length >= 2 && source.startsWith('/') && source.endsWith('/')) {
    try {
      return { ok: true, pattern: { source, regex: new RegExp(source.slice(1, -1)) } };
    } catch (error) {
      return { ok: false, error: `invalid regex ${source}: ${(error as Error).message}` };
    }
  }
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
  return { ok: true, pattern: { source, regex: globToRegExp(source) } };
}

function globToRegExp(glob: string): RegExp {
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
  return new RegExp(out + '$');
}

/** True when any pattern matches the name. */
export function matchesAny(name: string, patterns: readonly Pattern[]): boolean {
  for (const pattern of patterns) if (pattern.regex.test(name)) return true;
  return false;
}
