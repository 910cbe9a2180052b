/**
 * `regprune import ecr-lifecycle`: an ECR lifecycle policy (JSON) as a regprune config. Each
 * `tagged` rule becomes a tag class, an `any` rule the repository rule's own fields, an
 * `untagged` rule the rule's `untagged`. What cannot be said exactly gets a NOT EXACT comment.
 * Policy format: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
 */
import { UsageError } from '../../errors.js';
import { KEEP_ALL } from '../one-off.js';
import type { ImportNote, ImportResult } from './result.js';

/** A placeholder ECR registry host, for when no --endpoint is given. */
export const ECR_PLACEHOLDER = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

interface EcrRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: {
    readonly tagStatus: string;
    readonly tagPatternList?: readonly string[];
    readonly tagPrefixList?: readonly string[];
    readonly countType: string;
    readonly countUnit?: string;
    readonly countNumber: number;
    readonly storageClass?: string;
  };
  readonly action: { readonly type: string };
}

function fail(file: string, what: string): never {
  throw new UsageError(
    `import ecr-lifecycle ${file}: ${what}; expected a lifecycle policy like ` +
      `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["pr-*"],` +
      `"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}`,
  );
}

function asRules(policy: unknown, file: string): EcrRule[] {
  // `aws ecr get-lifecycle-policy` wraps the policy as a string in lifecycle: {lifecyclePolicyText}.
  const text = (policy as { lifecyclePolicyText?: unknown } | null)?.lifecyclePolicyText;
  const body: unknown = typeof text === 'string' ? JSON.parse(text) : policy;
  const rules = (body as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules) || rules.length === 0) fail(file, 'no "rules" array');
  return rules.map((rule: unknown, index) => {
    const r = rule as Partial<EcrRule> | null;
    const where = `rules[${index}]`;
    if (typeof r?.rulePriority !== 'number') fail(file, `${where}.rulePriority is missing or not a number`);
    const selection = r.selection;
    if (typeof selection?.tagStatus !== 'string') fail(file, `${where}.selection.tagStatus is missing`);
    if (typeof selection.countType !== 'string') fail(file, `${where}.selection.countType is missing`);
    if (typeof selection.countNumber !== 'number' || !Number.isInteger(selection.countNumber)) {
      fail(file, `${where}.selection.countNumber is missing or not a whole number`);
    }
    if (typeof r.action?.type !== 'string') fail(file, `${where}.action.type is missing`);
    return r as EcrRule;
  });
}

/** ECR's patterns: `*` is any run of characters, everything else literal; a prefix is `prefix*`. */
function globOf(selection: EcrRule['selection']): string[] {
  if (selection.tagPatternList !== undefined) return [...selection.tagPatternList];
  return (selection.tagPrefixList ?? []).map((prefix) => `${prefix}*`);
}

/** Converts the policy JSON text of FILE. */
export function importEcrLifecycle(
  jsonText: string,
  options: { readonly file: string; readonly endpoint?: string; readonly repository?: string },
): ImportResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonText);
  } catch (error) {
    fail(options.file, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const rules = asRules(parsed, options.file).sort((a, b) => a.rulePriority - b.rulePriority);
  const notes: ImportNote[] = [];
  const rulePath = ['registries', 0, 'repositories', 0];
  const rule: Record<string, unknown> = { match: options.repository ?? '**' };
  const classes: Array<Record<string, unknown>> = [];
  let untagged: 'keep' | 'delete' = 'keep';
  let restKeep: number = KEEP_ALL; // ECR expires nothing that no rule selects
  let restOlderThan: string | undefined;
  const note = (path: readonly (string | number)[], text: string, inexact = true) =>
    notes.push({ path, text, inexact });
  const ruleName = (r: EcrRule) => `rule ${r.rulePriority}${r.description ? ` ("${r.description}")` : ''}`;

  for (const source of rules) {
    const { selection } = source;
    const name = ruleName(source);
    if (source.action.type !== 'expire' || (selection.storageClass ?? 'standard') !== 'standard') {
      note([], `${name}: action ${source.action.type} (archive storage) has no regprune equivalent; left out`);
      continue;
    }
    if (selection.countType !== 'imageCountMoreThan' && selection.countType !== 'sinceImagePushed') {
      note(
        [],
        `${name}: countType ${selection.countType} has no regprune equivalent (regprune's keepPulledWithin ` +
          'keeps, it does not expire); left out, so it deletes nothing',
      );
      continue;
    }
    const byCount = selection.countType === 'imageCountMoreThan';
    const age = `${selection.countNumber}d`;
    if (selection.tagStatus === 'tagged') {
      const patterns = globOf(selection);
      if (patterns.length !== 1) {
        note(
          [],
          `${name}: selects images that have a tag matching each of ${patterns.join(', ')} (all of them); ` +
            'a tag class matches one pattern, so the rule is left out and those images stay',
        );
        continue;
      }
      const at = classes.length;
      classes.push(
        byCount ? { match: patterns[0], keep: selection.countNumber } : { match: patterns[0], keep: 0, olderThan: age },
      );
      notes.push({ path: [...rulePath, 'tags', at], text: `from ${name}`, inexact: false });
    } else if (selection.tagStatus === 'untagged') {
      if (byCount) {
        note(
          [...rulePath, 'untagged'],
          `${name} keeps the ${selection.countNumber} most recent untagged images; ` +
            'regprune keeps all untagged images or none (past minAge): kept all',
        );
      } else {
        untagged = 'delete';
        restOlderThan = age;
        notes.push({ path: [...rulePath, 'untagged'], text: `from ${name}`, inexact: false });
      }
    } else {
      // `any` is the last rule: everything earlier rules did not select.
      if (byCount) {
        restKeep = selection.countNumber;
        note(
          [...rulePath, 'keep'],
          `${name} counts tagged and untagged images together; regprune ranks tagged ` +
            'images only and keeps untagged ones',
        );
      } else {
        restKeep = 0;
        restOlderThan = age;
        untagged = 'delete';
        notes.push({ path: [...rulePath, 'keep'], text: `from ${name}`, inexact: false });
      }
    }
  }
  if (classes.length > 1) {
    note(
      [...rulePath, 'tags'],
      'ECR gives an image to its first matching rule; here an image whose tags match ' +
        "several classes counts toward each class's keep, and stays while any class keeps it",
    );
  }
  rule.keep = restKeep;
  if (restOlderThan !== undefined) {
    rule.olderThan = restOlderThan;
    // A class would inherit the rule's olderThan; an ECR count rule has no age condition.
    for (const tagClass of classes) tagClass.olderThan ??= '0s';
  }
  rule.untagged = untagged;
  if (classes.length > 0) rule.tags = classes;
  if (restKeep === KEEP_ALL) {
    notes.push({
      path: [...rulePath, 'keep'],
      text: 'no "any" rule: images no rule selects are never deleted',
      inexact: false,
    });
  }
  if (options.repository === undefined) {
    notes.push({
      path: [...rulePath, 'match'],
      text: 'a lifecycle policy belongs to one repository: name it (--repository)',
      inexact: false,
    });
  }
  if (options.endpoint === undefined) {
    notes.push({
      path: ['registries', 0, 'endpoint'],
      text: 'placeholder: your registry host (--endpoint)',
      inexact: false,
    });
  }
  notes.push({
    path: ['defaults', 'minAge'],
    text: 'ECR has no grace period; regprune keeps images younger than this. 0s matches ECR exactly',
    inexact: false,
  });
  return {
    data: {
      version: 1,
      dryRun: true,
      defaults: { minAge: '1d', pinned: [] },
      registries: [
        { name: 'ecr', provider: 'ecr', endpoint: options.endpoint ?? ECR_PLACEHOLDER, repositories: [rule] },
      ],
    },
    notes,
  };
}
