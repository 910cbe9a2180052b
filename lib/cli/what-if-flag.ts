/** `regprune report --what-if 1,3,5,10,20`: the keep values, parsed strictly. */
import { UsageError } from '../errors.js';

/** At most this many values: each one plans every repository once more. */
export const WHAT_IF_MAX_VALUES = 12;

/** The distinct keep values, ascending; a UsageError says what to write. */
export function parseWhatIf(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const bad = parts.find((part) => !/^\d{1,9}$/.test(part));
  if (bad !== undefined) {
    throw new UsageError(
      `report: --what-if ${JSON.stringify(text)}: ` +
        `${bad === '' ? 'an empty value' : `"${bad}" is not a whole number ≥ 0`}; ` +
        'write keep values separated by commas, like --what-if 1,3,5,10,20',
    );
  }
  const values = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  if (values.length > WHAT_IF_MAX_VALUES) {
    throw new UsageError(
      `report: --what-if: ${values.length} values; give at most ${WHAT_IF_MAX_VALUES}, like --what-if 1,3,5,10,20`,
    );
  }
  return values;
}
