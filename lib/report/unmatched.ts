/** Rules and a --repository that matched nothing: named, so a typo does not pass for "nothing to do". */
import type { Config } from '../config/schema.js';
import { ruleFor } from '../config/policy.js';
import type { Report } from './types.js';

/**
 * One note per config rule no examined repository fell under (none matched, or an earlier rule took
 * them: first match wins), and for a `repository` filter that matched nothing. Registries that
 * failed or were not run are left out: their listing proves nothing.
 */
export function unmatchedScopeNotes(
  config: Config,
  report: Report,
  scope: { readonly repository?: string | undefined },
): string[] {
  const notes: string[] = [];
  const complete = report.registries.filter((registry) => registry.error === undefined);
  if (scope.repository !== undefined) {
    if (complete.length > 0 && complete.every((registry) => registry.repositories.length === 0)) {
      notes.push(
        `--repository ${scope.repository} matched no repository that a rule matches in ` +
          `${complete.map((registry) => registry.name).join(', ')}; check the pattern (a glob, or /regex/)`,
      );
    }
    return notes; // a narrowed run does not see every repository: no rule can be called unmatched
  }
  if (!report.complete) return notes; // a stopped run did not see every repository either
  for (const registry of complete) {
    const registryConfig = config.registries.find((candidate) => candidate.name === registry.name);
    if (registryConfig === undefined) continue;
    const used = new Set(registry.repositories.map((repository) => ruleFor(registryConfig, repository.name)));
    const index = config.registries.indexOf(registryConfig);
    registryConfig.repositories.forEach((rule, at) => {
      if (used.has(rule)) return;
      notes.push(
        `registries[${index}].repositories[${at}] (match: ${rule.match}) matched no repository in ` +
          `${registry.name}${at > 0 ? ' (or an earlier rule matched them first)' : ''}; check the pattern`,
      );
    });
  }
  return notes;
}
