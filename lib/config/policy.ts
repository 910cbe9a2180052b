/** Turns config rules into the resolved `Policy` the planner reads. */
import type { Config, RegistryConfig, RepositoryRule } from './schema.js';
import { parseDuration } from './duration.js';
import { compilePattern, type Pattern } from './pattern.js';

/** Built-in defaults, used where neither `defaults` nor the rule says. Cautious on purpose. */
export const BUILTIN_RETENTION = {
  keep: 10,
  pinned: ['latest'],
  minAge: '1d',
  untagged: 'keep',
  order: 'pushed',
} as const;

/** Retention for one repository, fully resolved: what the planner reads. */
export interface Policy {
  readonly keep: number;
  readonly pinned: readonly Pattern[];
  readonly minAgeMs: number;
  readonly untagged: 'keep' | 'delete';
  readonly order: 'pushed' | 'semver';
  /** Keep images pulled within this many ms; `null` when not set. */
  readonly keepPulledWithinMs: number | null;
  /** Delete only images older than this many ms; `null` when not set. */
  readonly olderThanMs: number | null;
  /** Archived images (ECR archive): kept (default, absent) or judged like the others; rule 16. */
  readonly archived?: 'keep' | 'delete';
  /**
   * The rule's tag classes (docs/retention.md, "Tag classes"); absent or empty: one class, the
   * fields above, for every tag. With classes, the fields above judge the tags no class matches.
   */
  readonly classes?: readonly TagClassPolicy[];
}

/** One tag class, resolved: its fields fall back to the rule's resolved policy. */
export interface TagClassPolicy {
  readonly match: Pattern;
  readonly keep: number;
  readonly minAgeMs: number;
  readonly keepPulledWithinMs: number | null;
  readonly olderThanMs: number | null;
}

function ms(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(parsed.error); // unreachable: the schema validated it
  return parsed.ms;
}

function pattern(text: string): Pattern {
  const compiled = compilePattern(text);
  if (!compiled.ok) throw new Error(compiled.error); // unreachable: the schema validated it
  return compiled.pattern;
}

/** The first rule of the registry whose `match` fits the repository, or `null` (not touched). */
export function ruleFor(registry: RegistryConfig, repository: string): RepositoryRule | null {
  for (const rule of registry.repositories) {
    if (pattern(rule.match).test(repository)) return rule;
  }
  return null;
}

/** The policy for a repository under a rule: rule fields over `defaults` over built-ins; pinned lists add up. */
export function resolvePolicy(config: Config, rule: RepositoryRule): Policy {
  const defaults = config.defaults;
  const pinnedSources = [...(defaults.pinned ?? BUILTIN_RETENTION.pinned), ...(rule.pinned ?? [])];
  const keepPulledWithin = rule.keepPulledWithin ?? defaults.keepPulledWithin;
  const olderThan = rule.olderThan ?? defaults.olderThan;
  const archived = rule.archived ?? defaults.archived;
  const resolved: Policy = {
    keep: rule.keep ?? defaults.keep ?? BUILTIN_RETENTION.keep,
    pinned: [...new Set(pinnedSources)].map(pattern),
    minAgeMs: ms(rule.minAge ?? defaults.minAge ?? BUILTIN_RETENTION.minAge),
    untagged: rule.untagged ?? defaults.untagged ?? BUILTIN_RETENTION.untagged,
    order: rule.order ?? defaults.order ?? BUILTIN_RETENTION.order,
    keepPulledWithinMs: keepPulledWithin === undefined ? null : ms(keepPulledWithin),
    olderThanMs: olderThan === undefined ? null : ms(olderThan),
    // Absent means keep (rule 16): policies built before the field existed read the same.
    ...(archived === 'delete' ? { archived } : {}),
  };
  if (rule.tags === undefined) return resolved;
  const classes = rule.tags.map(
    (tagClass): TagClassPolicy => ({
      match: pattern(tagClass.match),
      keep: tagClass.keep ?? resolved.keep,
      minAgeMs: tagClass.minAge === undefined ? resolved.minAgeMs : ms(tagClass.minAge),
      keepPulledWithinMs:
        tagClass.keepPulledWithin === undefined ? resolved.keepPulledWithinMs : ms(tagClass.keepPulledWithin),
      olderThanMs: tagClass.olderThan === undefined ? resolved.olderThanMs : ms(tagClass.olderThan),
    }),
  );
  return { ...resolved, classes };
}
