/** The package version, from the package.json above this file (in a checkout or in dist/). */
import { readFileSync } from 'node:fs';

/** `0.1.0`, or `unknown` when no package.json is found. */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8'));
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        'name' in parsed &&
        parsed.name === 'regprune' &&
        'version' in parsed
      ) {
        return String(parsed.version);
      }
    } catch {
      // not there: try the next level
    }
  }
  return 'unknown';
}
