/** Deletion order: wave by wave (a referencer before what it references), each wave in chunks. */
import type { DeleteDecision } from '../plan/types.js';

/** Decisions grouped by `wave`, lowest first; input order kept within a wave. */
export function groupByWave(decisions: readonly DeleteDecision[]): DeleteDecision[][] {
  const waves = new Map<number, DeleteDecision[]>();
  for (const decision of decisions) {
    const wave = waves.get(decision.wave);
    if (wave) wave.push(decision);
    else waves.set(decision.wave, [decision]);
  }
  return [...waves.entries()].sort(([a], [b]) => a - b).map(([, wave]) => wave);
}

/** Splits `items` into runs of at most `size` (at least 1). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const step = Math.max(1, Math.floor(size));
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += step) chunks.push(items.slice(i, i + step));
  return chunks;
}
