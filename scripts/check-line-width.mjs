#!/usr/bin/env node
// Biome's formatter wraps code at 120 columns but leaves long strings and comments alone; this
// refuses those too, so every tracked TypeScript line fits the width docs/design.md sets.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_COLUMNS = 120;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs'], {
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);
const long = files.flatMap((file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, index) =>
      [...line].length > MAX_COLUMNS ? [`${file}:${index + 1}: ${[...line].length} columns`] : [],
    ),
);
for (const line of long) console.error(line);
if (long.length > 0) {
  console.error(`${long.length} lines exceed ${MAX_COLUMNS} columns; wrap them (split long strings with +).`);
  process.exit(1);
}
