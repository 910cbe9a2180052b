/** Rule 1: pinned tags. */
import { matchesAny, type Pattern } from '../config/pattern.js';

/** True when any of the image's tags matches any pinned pattern. */
export function isPinned(tags: readonly string[], patterns: readonly Pattern[]): boolean {
  if (patterns.length === 0) return false;
  for (const tag of tags) if (matchesAny(tag, patterns)) return true;
  return false;
}
